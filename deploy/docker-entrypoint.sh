#!/bin/sh
# Entrypoint of the chiso image: turn secret *files* into the variables the programs read, then exec
# the command (so it is PID 1 and gets SIGTERM itself; the services drain on it).
#
#   CHISO_DATABASE_URL_FILE  a file holding the SQLAlchemy URL   -> CHISO_DATABASE_URL
#   CHISO_TOKEN_FILE         a file holding an operator's token  -> CHISO_TOKEN (chiso-publish-admin, chiso-push)
#
# The services themselves read CHISO_DATABASE_URL (a URL carries the password) and have no *_FILE
# form; Compose mounts secrets as files, hence this. Kubernetes sets CHISO_DATABASE_URL from a
# Secret directly and this script only execs.
set -eu

if [ -n "${CHISO_DATABASE_URL_FILE:-}" ]; then
    CHISO_DATABASE_URL=$(cat "$CHISO_DATABASE_URL_FILE")
    export CHISO_DATABASE_URL
fi
if [ -n "${CHISO_TOKEN_FILE:-}" ]; then
    CHISO_TOKEN=$(cat "$CHISO_TOKEN_FILE")
    export CHISO_TOKEN
fi
unset CHISO_DATABASE_URL_FILE CHISO_TOKEN_FILE

if [ "$#" -eq 0 ]; then
    echo "chiso-entrypoint: give a command: chiso-ingest, chiso-scoring, chiso-publish, chiso-portal serve …," \
         "chiso-admin …" >&2
    exit 64
fi
exec "$@"
