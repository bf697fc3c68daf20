#!/bin/sh
# Write the secret files deploy/compose.yaml mounts, once, under deploy/secrets/ (never committed):
#
#   db_password               PostgreSQL password of the `chiso` role (random, hex: no URL escaping)
#   database_url              postgresql+psycopg://chiso:<password>@postgres:5432/chiso
#   publish_signing_key.pem   publish's Ed25519 private key (PKCS#8 PEM) — back it up (OPERATIONS.md)
#   operator_token            empty until `chiso-admin operator add …` fills it (OPERATIONS.md)
#   publish_scoring_token     empty until `chiso-admin operator add publish-alerts …` fills it: publish's
#                             token for scoring's at-risk lists (empty: no projection or backlog alerts)
#   smtp_password             empty until you write the SMTP server's password in it (alert e-mails;
#                             empty: no SMTP login)
#
# Existing files are kept: running it again changes nothing. The folder is 0700 (only you on this
# host); the files are 0644 because Compose bind-mounts them as they are and the containers run as
# uid 10001, which must be able to read them.
set -eu
dir=$(dirname "$0")/secrets
mkdir -p "$dir"
chmod 700 "$dir"
umask 022

if [ ! -s "$dir/db_password" ]; then
    od -An -N24 -tx1 /dev/urandom | tr -d ' \n' > "$dir/db_password"
    echo "wrote $dir/db_password"
fi
if [ ! -s "$dir/database_url" ]; then
    printf 'postgresql+psycopg://chiso:%s@postgres:5432/chiso' "$(cat "$dir/db_password")" > "$dir/database_url"
    echo "wrote $dir/database_url"
fi
if [ ! -s "$dir/publish_signing_key.pem" ]; then
    if command -v openssl >/dev/null 2>&1; then
        openssl genpkey -algorithm ed25519 -out "$dir/publish_signing_key.pem"
    else
        python3 -c 'import sys
from cryptography.hazmat.primitives import serialization as s
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
sys.stdout.buffer.write(Ed25519PrivateKey.generate().private_bytes(
    s.Encoding.PEM, s.PrivateFormat.PKCS8, s.NoEncryption()))' > "$dir/publish_signing_key.pem"
    fi
    echo "wrote $dir/publish_signing_key.pem"
fi
for name in operator_token publish_scoring_token smtp_password; do
    [ -e "$dir/$name" ] || : > "$dir/$name"
done
chmod 644 "$dir"/db_password "$dir"/database_url "$dir"/publish_signing_key.pem "$dir"/operator_token \
    "$dir"/publish_scoring_token "$dir"/smtp_password
