"""farmwatch-agent as a Windows service, through pywin32. Windows only: imported by nothing else.

packaging/windows/install.ps1 registers it (the bundled interpreter runs this module; no
pythonservice.exe, which a private interpreter would need patching for):

    python.exe -m farmwatch.agent.winservice --startup auto install
    python.exe -m farmwatch.agent.winservice start | stop | remove

The service runs as LocalSystem: reading the BIOS serial, every user's processes and their
connections needs it. Settings come from %ProgramData%\\farmwatch\\agent.toml (service.py); the
log goes to %ProgramData%\\farmwatch\\agent.log, and start, stop and unusable settings to the
Application event log.
"""
from __future__ import annotations

import sys
import threading

import servicemanager
import win32service
import win32serviceutil

from farmwatch.agent import service
from farmwatch.agent.state import ConfigError, windows_data_dir

SERVICE_NAME = "farmwatch-agent"
LOG_NAME = "agent.log"


class AgentService(win32serviceutil.ServiceFramework):
    _svc_name_ = SERVICE_NAME
    _svc_display_name_ = "farmwatch agent"
    _svc_description_ = ("Reports remote-control software, IP-KVMs and relaying on this laptop "
                         "to the collector the company runs.")
    # The SCM starts `python.exe -m farmwatch.agent.winservice`, which hosts the class itself.
    _exe_name_ = sys.executable
    _exe_args_ = f"-m {__name__}"

    def __init__(self, args):
        super().__init__(args)
        self.stop_requested = threading.Event()

    def SvcStop(self):
        self.ReportServiceStatus(win32service.SERVICE_STOP_PENDING)
        self.stop_requested.set()

    def SvcDoRun(self):
        try:
            settings = service.load_settings(service.default_settings_path())
        except ConfigError as exc:
            servicemanager.LogErrorMsg(f"{SERVICE_NAME}: {exc}")
            return
        servicemanager.LogMsg(servicemanager.EVENTLOG_INFORMATION_TYPE, servicemanager.PYS_SERVICE_STARTED,
                              (self._svc_name_, f" state dir {settings.state_dir}"))
        log = service.RotatingLogFile(windows_data_dir() / LOG_NAME)
        sys.stderr = log  # the agent logs to whatever sys.stderr is when a record comes
        try:
            service.serve(settings, self.stop_requested)
        finally:
            sys.stderr = sys.__stderr__
            log.close()
        servicemanager.LogMsg(servicemanager.EVENTLOG_INFORMATION_TYPE, servicemanager.PYS_SERVICE_STOPPED,
                              (self._svc_name_, ""))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv if argv is None else argv
    if len(argv) == 1:  # started by the service control manager
        servicemanager.Initialize()
        servicemanager.PrepareToHostSingle(AgentService)
        servicemanager.StartServiceCtrlDispatcher()
        return 0
    win32serviceutil.HandleCommandLine(AgentService, argv=argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
