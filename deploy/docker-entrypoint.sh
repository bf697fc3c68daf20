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

# from_file NAME FILE: export NAME holding FILE's content; nothing when FILE is empty (not configured);
# a FILE that cannot be read stops the container (set -e)
from_file() {
    if [ -n "$2" ]; then
        value=$(cat "$2")
        export "$1=$value"
    fi
}
from_file CHISO_DATABASE_URL "${CHISO_DATABASE_URL_FILE:-}"
from_file CHISO_TOKEN "${CHISO_TOKEN_FILE:-}"
from_file CHISO_PUBLISH_SCORING_TOKEN "${CHISO_PUBLISH_SCORING_TOKEN_FILE:-}"
from_file CHISO_PUBLISH_SMTP_PASSWORD "${CHISO_PUBLISH_SMTP_PASSWORD_FILE:-}"
unset value
unset CHISO_DATABASE_URL_FILE CHISO_TOKEN_FILE CHISO_PUBLISH_SCORING_TOKEN_FILE CHISO_PUBLISH_SMTP_PASSWORD_FILE

if [ "$#" -eq 0 ]; then
    echo "chiso-entrypoint: give a command: chiso-ingest, chiso-scoring, chiso-publish, chiso-portal serve …," \
         "chiso-admin …" >&2
    exit 64
fi
exec "$@"
