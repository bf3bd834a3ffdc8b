# Sourced by .ci/run (and by a developer: `source .ci/services.sh`) before
# the tests. It installs what the job queue and web page tests need, starts
# a throw-away PostgreSQL server on loopback, and exports:
#
#   MIGRATE_TEST_POSTGRES_DSN  a database on that server
#   MIGRATE_TEST_CHROMIUM      Debian's headless-capable Chromium
#
# The server lives in a temporary directory and is stopped when the shell
# that sourced this file exits.

_migrate_services() {
	local need=()
	command -v chromium >/dev/null 2>&1 || need+=(chromium)
	compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
	if ((${#need[@]})); then
		echo "services: installing ${need[*]}"
		apt-get update -qq || return 1
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null || return 1
	fi

	local bin
	bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
	local dir
	dir=$(mktemp -d /tmp/migrate-pg.XXXXXX) || return 1
	chown postgres:postgres "$dir"
	# initdb and postgres refuse to run as root: they run as the package's
	# postgres user.
	runuser -u postgres -- "$bin/initdb" -D "$dir/data" -A trust -U postgres --no-sync >/dev/null || return 1
	local port started=""
	for _ in 1 2 3 4 5; do
		port=$((20000 + RANDOM % 20000))
		if runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
			-o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200" start >/dev/null; then
			started=1
			break
		fi
	done
	if [[ -z $started ]]; then
		echo "services: PostgreSQL did not start:" >&2
		cat "$dir/server.log" >&2
		return 1
	fi
	runuser -u postgres -- "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres migrate_test || return 1
	_MIGRATE_PG_STOP="runuser -u postgres -- $bin/pg_ctl -D $dir/data -m fast stop"
	trap '$_MIGRATE_PG_STOP >/dev/null 2>&1; rm -rf '"$dir" EXIT

	export MIGRATE_TEST_POSTGRES_DSN="postgres://postgres@127.0.0.1:$port/migrate_test?sslmode=disable"
	MIGRATE_TEST_CHROMIUM=$(command -v chromium)
	export MIGRATE_TEST_CHROMIUM
	echo "services: PostgreSQL on 127.0.0.1:$port, Chromium at $MIGRATE_TEST_CHROMIUM"
	echo "export MIGRATE_TEST_POSTGRES_DSN=$MIGRATE_TEST_POSTGRES_DSN"
	echo "export MIGRATE_TEST_CHROMIUM=$MIGRATE_TEST_CHROMIUM"
}

_migrate_services || { echo "services: could not start the test services" >&2; return 1 2>/dev/null || exit 1; }
