# Stage one of the seed-000 sample (PowerShell, as in the original scheduler's example).
Write-Output "script one: building on $(hostname)"
Start-Sleep -Seconds 1
Write-Output "script one: done"
