"""Windows implementations of the probes: one module per kind of fact.

The agent runs as a service (LocalSystem), so HKEY_CURRENT_USER is the service's own
hive; what the people at the keyboard chose (keyboard layouts, locale, per-user
programs) is read from their loaded hives under HKEY_USERS instead. WMI and PnP facts
come from PowerShell with ``ConvertTo-Json``; the registry through ``registry.py``.
"""
