#!/bin/bash
# Remove the farmwatch agent from this Mac (run as root, e.g. from a Jamf or Kandji script).
#   uninstall.sh           keep /var/lib/farmwatch (key, certificate, outbox) and the settings
#   uninstall.sh --purge   delete those too: the Mac must enroll again after a reinstall
set -euo pipefail

PURGE=no
case "${1:-}" in
    "") ;;
    --purge) PURGE=yes ;;
    *) echo "usage: uninstall.sh [--purge]" >&2; exit 2 ;;
esac
[ "$(id -u)" -eq 0 ] || { echo "uninstall.sh: run as root" >&2; exit 1; }

for label in com.farmwatch.agent com.farmwatch.agent.provision; do
    launchctl bootout "system/$label" 2>/dev/null || true
    rm -f "/Library/LaunchDaemons/$label.plist"
done
rm -rf /opt/farmwatch
rm -f /usr/local/bin/farmwatch-agent /etc/newsyslog.d/farmwatch-agent.conf
pkgutil --forget com.farmwatch.agent >/dev/null 2>&1 || true
if [ "$PURGE" = yes ]; then
    rm -rf /var/lib/farmwatch /etc/farmwatch /var/log/farmwatch-agent.log*
fi
echo "farmwatch agent removed (purge: $PURGE)"
