#!/usr/bin/env bash
# Daily snapshot of techmarket (database + uploaded files) with rotation; run by techmarket-backup.timer
# or cron as the `techmarket` user, with the service's environment (/etc/techmarket/techmarket.env).
#
#   BACKUP_DIR   where snapshots go (default /var/backups/techmarket; mode 0700, owned by techmarket)
#   KEEP_DAYS    daily snapshots kept (default 14)
#   KEEP_MONTHS  first-of-month snapshots kept (default 12)
#   OFFSITE      optional rsync/scp destination for a second copy, e.g. backup@10.0.0.20:/srv/backups/techmarket/
set -euo pipefail
APP_DIR="${APP_DIR:-/srv/techmarket}"
BACKUP_DIR="${BACKUP_DIR:-/var/backups/techmarket}"
KEEP_DAYS="${KEEP_DAYS:-14}"
KEEP_MONTHS="${KEEP_MONTHS:-12}"

umask 077
mkdir -p "$BACKUP_DIR/daily" "$BACKUP_DIR/monthly"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
out="$BACKUP_DIR/daily/techmarket-$stamp.tar.gz"

cd "$APP_DIR"
"$APP_DIR/.venv/bin/flask" --app wsgi backup --output "$out"

# The first snapshot of each month is also kept as a monthly one (a hard link: no extra space).
month="$(date -u +%Y%m)"
if ! ls "$BACKUP_DIR/monthly/techmarket-$month"* >/dev/null 2>&1; then
  ln "$out" "$BACKUP_DIR/monthly/$(basename "$out")"
fi

find "$BACKUP_DIR/daily" -name 'techmarket-*.tar.gz' -type f -mtime +"$KEEP_DAYS" -delete
find "$BACKUP_DIR/monthly" -name 'techmarket-*.tar.gz' -type f -mtime +$((KEEP_MONTHS * 31)) -delete

if [ -n "${OFFSITE:-}" ]; then
  rsync -a "$out" "$OFFSITE"
fi
echo "techmarket backup ok: $out"
