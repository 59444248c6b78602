#!/usr/bin/env bash
# Proves that a database made by an older commit migrates on this checkout with its tables and
# rows intact: the old code migrates a fresh database, loads the demo and signs in a few users;
# this checkout then migrates the same database, and every table's row count is compared.
#
#   scripts/check-migrate-from.sh [--sqlite|--postgres] [OLD_COMMIT]
#
# Both backends by default. OLD_COMMIT defaults to the commit before the one that added
# accounts/migrations/0001_initial.py (the sessions' move out of iap_portal). PostgreSQL runs
# at 127.0.0.1:5432 as user postgres. The old code runs on this checkout's .venv. Exits
# non-zero on any difference.
set -euo pipefail

cd "$(dirname "$0")/.."
new=$PWD
py=$new/.venv/bin/python
backends=(sqlite postgres)
case "${1:-}" in --sqlite | --postgres) backends=("${1#--}") && shift ;; esac
added=$(git log --format=%H --diff-filter=A -- accounts/migrations/0001_initial.py | tail -1)
old=$(git rev-parse --verify "${1:-$added~1}^{commit}")
pg=(-h 127.0.0.1 -U postgres)
pgdb=iap_migrate_check_$$ # and ${pgdb}_fresh

tmp=$(mktemp -d /tmp/check-migrate.XXXXXX)
cleanup() {
    git -C "$new" worktree remove --force "$tmp/old" 2>/dev/null || true
    dropdb "${pg[@]}" --if-exists "$pgdb" 2>/dev/null || true
    dropdb "${pg[@]}" --if-exists "${pgdb}_fresh" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
git worktree add --quiet --detach "$tmp/old" "$old"

manage() { "$py" manage.py "$@"; } # the checkout in the current directory
shell() { manage shell --no-imports -c "$1"; }

# Every table (the database's own list: sqlite_master / pg_catalog) with its row count.
count_rows='
from django.db import connection

with connection.cursor() as cursor:
    for table in sorted(connection.introspection.table_names(cursor)):
        cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
        print(table, cursor.fetchone()[0])
'
# Every table's columns and constraints, to compare the migrated database with a fresh one.
schema='
from django.db import connection

with connection.cursor() as cursor:
    for table in sorted(connection.introspection.table_names(cursor)):
        for column in connection.introspection.get_table_description(cursor, table):
            print(table, column.name, column.type_code, "null" if column.null_ok else "not null")
        for name, constraint in sorted(connection.introspection.get_constraints(cursor, table).items()):
            print(table, name, sorted(constraint.items()))
'
# The content types, marked when their model is gone.
content_types='
from django.contrib.contenttypes.models import ContentType

for ct in ContentType.objects.all():
    print(f"{ct.app_label}.{ct.model}" + ("" if ct.model_class() else " (stale: no model)"))
'
# A few signed-in users (their sessions in iap_portal_usersession), on the old code.
sign_in='
from django.contrib.auth import get_user_model
from django.test import Client

for user in get_user_model().objects.order_by("pk")[:4]:
    Client().force_login(user)
'
# The sessions read through the moved model: how many, and how many still name their user.
read_sessions='
from accounts.models import UserSession

sessions = list(UserSession.objects.all())
print(len(sessions), sum(s.get_decoded().get("_auth_user_id") == str(s.user_id) for s in sessions))
'

failed=()
check() { # $1: sqlite or postgres
    local backend=$1 dir=$tmp/$1 problems=0 sessions read fresh
    mkdir "$dir"
    if [ "$backend" = postgres ]; then
        createdb "${pg[@]}" "$pgdb" && createdb "${pg[@]}" "${pgdb}_fresh"
        export DATABASE_URL=postgres://postgres@127.0.0.1:5432/$pgdb
        fresh=${DATABASE_URL}_fresh
    else
        export DATABASE_URL=sqlite:///$dir/db.sqlite3
        fresh=sqlite:///$dir/fresh.sqlite3
    fi
    echo "== $backend: a database made by $(git rev-parse --short "$old"), migrated by $(git rev-parse --short HEAD)"

    (
        cd "$tmp/old"
        manage migrate --noinput -v 0
        manage load_demo >/dev/null
        shell "$sign_in"
        shell "$count_rows" >"$dir/before"
        shell "$content_types" | sort >"$dir/types-before"
    )
    manage migrate --plan | sed 's/^/   /'
    manage migrate --noinput -v 0
    shell "$count_rows" >"$dir/after"
    shell "$content_types" | sort >"$dir/types-after"
    shell "$schema" >"$dir/schema-migrated"
    DATABASE_URL=$fresh manage migrate --noinput -v 0
    DATABASE_URL=$fresh shell "$schema" >"$dir/schema-fresh"

    # Old tables keep their rows; Django's bookkeeping tables may grow (new migrations, content
    # types and their permissions: printed); new tables are listed.
    awk -v bookkeeping=" django_migrations django_content_type auth_permission " '
        NR == FNR { before[$1] = $2; next }
        { after[$1] = $2 }
        END {
            for (t in before) {
                rows += before[t]
                if (!(t in after)) { print "   MISSING table " t; bad++ }
                else if (index(bookkeeping, " " t " ") && after[t] >= before[t]) grown = grown " " t " +" after[t] - before[t]
                else if (after[t] != before[t]) { print "   CHANGED " t ": " before[t] " -> " after[t] " rows"; bad++ }
            }
            for (t in after) if (!(t in before)) added = added " " t " (" after[t] " rows)"
            printf "   %d old tables, %d rows compared: %s\n", length(before), rows,
                bad ? bad " differences" : "every table there with the same rows"
            print "   bookkeeping rows added:" grown
            print "   new tables:" (added ? added : " none")
            exit bad > 0
        }' "$dir/before" "$dir/after" || problems=1
    echo "   content types new or changed: $(comm -13 "$dir/types-before" "$dir/types-after" | paste -sd, -)"

    if diff "$dir/schema-fresh" "$dir/schema-migrated" >"$dir/schema-diff"; then
        echo "   schema: the same columns and constraints as a database made fresh by the new code"
    else
        echo "   schema differs from a fresh database (< fresh, > migrated):" && sed 's/^/   /' "$dir/schema-diff"
        problems=1
    fi

    sessions=$(awk '$1 == "iap_portal_usersession" {print $2}' "$dir/before")
    read=$(shell "$read_sessions")
    echo "   sessions: $sessions made by the old code; read through accounts.UserSession (with their user): $read"
    [ "$sessions" -gt 0 ] && [ "$read" = "$sessions $sessions" ] || problems=1

    manage migrate --check >/dev/null || { echo "   migrate --check: unapplied migrations" && problems=1; }
    if manage showmigrations --plan | grep -F '[ ]'; then problems=1; fi
    manage makemigrations --check --dry-run >/dev/null \
        || { echo "   makemigrations --check: model changes without a migration" && problems=1; }

    if [ "$problems" = 0 ]; then echo "   OK"; else echo "   FAILED" && failed+=("$backend"); fi
}

for backend in "${backends[@]}"; do check "$backend"; done
[ ${#failed[@]} = 0 ] || { echo "Migrating from $old failed on: ${failed[*]}" >&2 && exit 1; }
echo "A database made by $(git rev-parse --short "$old") migrates with every table and row on: ${backends[*]}"
