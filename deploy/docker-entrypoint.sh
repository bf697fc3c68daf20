#!/bin/sh
# Entrypoint of the chiso image: turn secret *files* into the variables the programs read, then exec
# the command (so it is PID 1 and gets SIGTERM itself; the services drain on it).
#
#   CHISO_DATABASE_URL_FILE  a file holding the SQLAlchemy URL   -> CHISO_DATABASE_URL
#   CHISO_TOKEN_FILE         a file holding an operator's token  -> CHISO_TOKEN (chiso-publish-admin, chiso-push)
#   CHISO_PUBLISH_SCORING_TOKEN_FILE  publish's token for scoring's at-risk lists -> CHISO_PUBLISH_SCORING_TOKEN
#   CHISO_PUBLISH_SMTP_PASSWORD_FILE  the SMTP password of alert e-mails        -> CHISO_PUBLISH_SMTP_PASSWORD
#
# A file may be empty (e.g. no SMTP login): the variable is then set empty, which the service reads as
# "not configured". Surrounding newlines are dropped (command substitution).
#
# The services themselves read CHISO_DATABASE_URL (a URL carries the password), the token and the
# password and have no *_FILE form; Compose mounts secrets as files, hence this. Kubernetes sets them
# from Secrets directly and this script only execs.
set -eu

if [ -n "${CHISO_DATABASE_URL_FILE:-}" ]; then
    CHISO_DATABASE_URL=$(cat "$CHISO_DATABASE_URL_FILE")
    export CHISO_DATABASE_URL
fi
if [ -n "${CHISO_TOKEN_FILE:-}" ]; then
    CHISO_TOKEN=$(cat "$CHISO_TOKEN_FILE")
    export CHISO_TOKEN
fi
if [ -n "${CHISO_PUBLISH_SCORING_TOKEN_FILE:-}" ]; then
    CHISO_PUBLISH_SCORING_TOKEN=$(cat "$CHISO_PUBLISH_SCORING_TOKEN_FILE")
    export CHISO_PUBLISH_SCORING_TOKEN
fi
if [ -n "${CHISO_PUBLISH_SMTP_PASSWORD_FILE:-}" ]; then
    CHISO_PUBLISH_SMTP_PASSWORD=$(cat "$CHISO_PUBLISH_SMTP_PASSWORD_FILE")
    export CHISO_PUBLISH_SMTP_PASSWORD
fi
unset CHISO_DATABASE_URL_FILE CHISO_TOKEN_FILE CHISO_PUBLISH_SCORING_TOKEN_FILE CHISO_PUBLISH_SMTP_PASSWORD_FILE

if [ "$#" -eq 0 ]; then
    echo "chiso-entrypoint: give a command: chiso-ingest, chiso-scoring, chiso-publish, chiso-portal serve …," \
         "chiso-admin …" >&2
    exit 64
fi
exec "$@"
