<#
.SYNOPSIS
Installs the farmwatch agent on this PC and, given a token, lets it enroll by itself.

.DESCRIPTION
Made for an Intune Win32 app (install behaviour: System). The package folder holds this script,
common.ps1, uninstall.ps1, VERSION, python\ (a private CPython) and wheels\ (the agent and its
dependencies), as packaging/windows/build-payload.sh lays them out; add ca.crt and token.txt
beside them to enroll on install.

Install command:
  powershell.exe -NoProfile -ExecutionPolicy Bypass -File install.ps1 -Collector collector.example.com:7443

Steps: stop a running agent (upgrade); copy python\ to C:\Program Files\farmwatch and install the
agent into it offline from wheels\; make C:\ProgramData\farmwatch readable by SYSTEM and
Administrators only; write agent.toml there unless it exists; write state\bootstrap.toml from
-Collector, ca.crt and token.txt (skipped without token.txt: the agent then waits for one);
register and start the farmwatch-agent service (pywin32), or with -Mode ScheduledTask a task
that runs at startup as SYSTEM and restarts on failure.
#>
[CmdletBinding()]
param(
    [string] $Collector = "",
    [string] $CaCertFile = (Join-Path $PSScriptRoot "ca.crt"),
    [string] $TokenFile = (Join-Path $PSScriptRoot "token.txt"),
    [string] $ServerName = "",
    [ValidateSet("Service", "ScheduledTask")] [string] $Mode = "Service"
)
$ErrorActionPreference = "Stop"
Set-StrictMode -Version Latest
. (Join-Path $PSScriptRoot "common.ps1")

function Install-Interpreter {
    if (Test-Path (Join-Path $InstallDir "python")) { Remove-Item -Recurse -Force (Join-Path $InstallDir "python") }
    New-Item -ItemType Directory -Force -Path $InstallDir | Out-Null
    Copy-Item -Recurse -Path (Join-Path $PSScriptRoot "python") -Destination $InstallDir
    $packages = @("farmwatch")
    if ($Mode -eq "Service") { $packages += "pywin32" }
    Invoke-Checked $Python (@("-m", "pip", "install", "--no-index", "--find-links", (Join-Path $PSScriptRoot "wheels"),
        "--disable-pip-version-check", "--no-warn-script-location", "--quiet") + $packages)
    # The collector's extra dependencies are not bundled; its command would only fail here.
    Remove-Item -Force -ErrorAction SilentlyContinue (Join-Path $InstallDir "python\Scripts\farmwatch-collector.exe")
    Copy-Item -Force -Path (Join-Path $PSScriptRoot "VERSION") -Destination $VersionFile
}

function Initialize-DataDir {
    New-Item -ItemType Directory -Force -Path $DataDir | Out-Null
    # SYSTEM and Administrators only (by SID, so it works in every display language).
    Invoke-Checked icacls.exe @($DataDir, "/inheritance:r", "/grant:r", "*S-1-5-18:(OI)(CI)F", "*S-1-5-32-544:(OI)(CI)F")
    if (-not (Test-Path $SettingsFile)) {
        # TOML literal strings (single quotes) keep the backslashes of Windows paths as they are.
        Set-Content -Path $SettingsFile -Encoding ascii -Value @(
            "# farmwatch-agent service settings; restart the service after a change.",
            "state_dir = '$StateDir'",
            "# interval = 300",
            "log_level = 'info'")
    }
}

function Write-Bootstrap {
    if (-not (Test-Path $TokenFile)) {
        Write-Output "no $TokenFile : the agent will wait for $StateDir\bootstrap.toml"
        return
    }
    if (-not $Collector) { throw "-Collector HOST:PORT is needed to enroll with $TokenFile" }
    $arguments = @("-m", "farmwatch.agent.provision", "--collector", $Collector,
        "--ca-cert", $CaCertFile, "--token-file", $TokenFile)
    if ($ServerName) { $arguments += @("--server-name", $ServerName) }
    Invoke-Checked $Python $arguments
}

function Register-AgentService {
    $verb = if (Get-Service -Name $ServiceName -ErrorAction SilentlyContinue) { "update" } else { "install" }
    Invoke-Checked $Python @("-m", "farmwatch.agent.winservice", "--startup", "auto", $verb)
    Invoke-Checked sc.exe @("failure", $ServiceName, "reset=", "86400", "actions=", "restart/60000/restart/60000/restart/60000")
    Start-Service -Name $ServiceName
}

function Register-AgentTask {
    $arguments = "-m farmwatch.agent.service --config `"$SettingsFile`" --log-file `"$LogFile`""
    $action = New-ScheduledTaskAction -Execute $Python -Argument $arguments
    $trigger = New-ScheduledTaskTrigger -AtStartup
    $principal = New-ScheduledTaskPrincipal -UserId "S-1-5-18" -LogonType ServiceAccount -RunLevel Highest
    $settings = New-ScheduledTaskSettingsSet -RestartCount 999 -RestartInterval (New-TimeSpan -Minutes 1) `
        -ExecutionTimeLimit ([TimeSpan]::Zero) -StartWhenAvailable -AllowStartIfOnBatteries `
        -DontStopIfGoingOnBatteries -MultipleInstances IgnoreNew
    Register-ScheduledTask -TaskName $TaskName -Action $action -Trigger $trigger -Principal $principal `
        -Settings $settings -Force | Out-Null
    Start-ScheduledTask -TaskName $TaskName
}

Stop-FarmwatchAgent
Install-Interpreter
Initialize-DataDir
Write-Bootstrap
if ($Mode -eq "Service") { Register-AgentService } else { Register-AgentTask }
Write-Output "farmwatch agent $(Get-Content $VersionFile) installed ($Mode)"
exit 0
