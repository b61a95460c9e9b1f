# Names shared by install.ps1 and uninstall.ps1. detect.ps1 repeats the few it needs, because
# Intune uploads a detection script on its own (tests/test_packaging_windows.py keeps them equal).
$InstallDir   = Join-Path $env:ProgramFiles "farmwatch"
$Python       = Join-Path $InstallDir "python\python.exe"
$VersionFile  = Join-Path $InstallDir "VERSION"
$DataDir      = Join-Path $env:ProgramData "farmwatch"
$SettingsFile = Join-Path $DataDir "agent.toml"
$StateDir     = Join-Path $DataDir "state"
$LogFile      = Join-Path $DataDir "agent.log"
$ServiceName  = "farmwatch-agent"
$TaskName     = "farmwatch-agent"

function Invoke-Checked {
    param([Parameter(Mandatory)] [string] $Program, [string[]] $Arguments = @())
    & $Program @Arguments
    if ($LASTEXITCODE -ne 0) {
        throw "$Program $($Arguments -join ' ') failed with exit code $LASTEXITCODE"
    }
}

function Stop-FarmwatchAgent {
    $service = Get-Service -Name $ServiceName -ErrorAction SilentlyContinue
    if ($service -and $service.Status -ne "Stopped") { Stop-Service -Name $ServiceName -Force }
    $task = Get-ScheduledTask -TaskName $TaskName -ErrorAction SilentlyContinue
    if ($task) { Stop-ScheduledTask -TaskName $TaskName }
}
