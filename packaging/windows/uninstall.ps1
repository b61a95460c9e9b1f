<#
.SYNOPSIS
Removes the farmwatch agent (Intune Win32 app uninstall command).

  powershell.exe -NoProfile -ExecutionPolicy Bypass -File uninstall.ps1 [-Purge]

Without -Purge, C:\ProgramData\farmwatch (key, certificate, outbox, settings) stays, so a
reinstall keeps the PC's enrollment. With -Purge it goes too, and the PC must enroll again.
#>
[CmdletBinding()]
param([switch] $Purge)
$ErrorActionPreference = "Stop"
Set-StrictMode -Version Latest
. (Join-Path $PSScriptRoot "common.ps1")

Stop-FarmwatchAgent
if (Get-Service -Name $ServiceName -ErrorAction SilentlyContinue) {
    Invoke-Checked sc.exe @("delete", $ServiceName)
}
if (Get-ScheduledTask -TaskName $TaskName -ErrorAction SilentlyContinue) {
    Unregister-ScheduledTask -TaskName $TaskName -Confirm:$false
}
if (Test-Path $InstallDir) { Remove-Item -Recurse -Force $InstallDir }
if ($Purge -and (Test-Path $DataDir)) { Remove-Item -Recurse -Force $DataDir }
Write-Output "farmwatch agent removed"
exit 0
