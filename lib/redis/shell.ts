/**
 * Shell building blocks shared by every Redis pod's scripts (SentinelRedis data members and
 * sentinels, ShardedRedisCluster members and its bootstrap). Each is a fragment of POSIX sh that a
 * topology's common.sh places where it wants; they rely on the constants every common.sh defines:
 * POD_NAME, AUTH_DIR, TLS (0/1), TLS_DIR and REDIS_PORT.
 *
 * Inside these template literals `\\n` and `\${` are escaped so the rendered text carries them
 * literally for the shell; Terraform escaping happens later, once, in core/escaping.
 */

/** Single-quotes a value for POSIX sh. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** `NAME=value` lines: numbers bare, strings single-quoted. */
export function shellConstants(constants: Record<string, string | number>): string {
  return Object.entries(constants)
    .map(([k, v]) => `${k}=${typeof v === 'number' ? v : shellQuote(v)}`)
    .join('\n');
}

/** `log` to stderr with a UTC timestamp and the pod name; `hook_log` for preStop hooks. */
export const SH_LOG = `log() { printf '%s %s: %s\\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$POD_NAME" "$*" >&2; }
# hook_log MESSAGE: a hook's output is not in the container log, so also to the main process's stderr.
hook_log() { log "$*"; { log "$*" 2>>/proc/1/fd/2; } 2>/dev/null || true; }`;

/** `password`: the topology's password, read from the mounted auth Secret. */
export const SH_PASSWORD = `password() { cat "$AUTH_DIR/password"; }`;

/** `conf_quote`: a value as a double-quoted redis.conf argument. */
export const SH_CONF_QUOTE = `# A value as a double-quoted redis.conf argument.
conf_quote() { printf '"%s"' "$(printf '%s' "$1" | sed 's/[\\\\"]/\\\\&/g')"; }`;

/**
 * `rcli` and `rcli_for`: redis-cli with the password from the Secret in REDISCLI_AUTH (never on the
 * command line, where `ps` shows it), TLS when the topology has it, and a time bound.
 */
export const SH_RCLI = `# rcli HOST PORT ARGS...: redis-cli with auth from the Secret (never on the command line), TLS
# when enabled, and a 3 s bound. Exit status 0 when the server answered anything.
rcli() { rcli_for 3 "$@"; }

# rcli_for SECONDS HOST PORT ARGS...: rcli bounded by SECONDS instead of 3 (status 124 when it ran out).
rcli_for() {
  _t=$1; _h=$2; _p=$3; shift 3
  if [ "$TLS" = 1 ]; then set -- --tls --cacert "$TLS_DIR/ca.crt" "$@"; fi
  REDISCLI_AUTH="$(password)" timeout "$_t" redis-cli --no-auth-warning -h "$_h" -p "$_p" "$@" 2>/dev/null
}`;

/** `role_of HOST`: the first line of ROLE (master, slave or nothing). */
export const SH_ROLE_OF = `# First line of ROLE: master, slave or nothing.
role_of() { _r=$(rcli "$1" "$REDIS_PORT" ROLE); printf '%s' "\${_r%%[!a-z]*}"; }`;

/**
 * The runtime redis.conf lines that carry secrets, printed by a `write_conf` function: the password
 * for clients and for replication, and each ACL user of `$CONFIG_DIR/acl-rules` ("<user> <rules>"
 * per line) with its password from the Secret key `acl-<user>`. Indented for a `{ ... }` block.
 */
export const SH_AUTH_CONF_LINES = `    printf 'requirepass %s\\n' "$(conf_quote "$(password)")"
    printf 'masterauth %s\\n' "$(conf_quote "$(password)")"
    if [ -s "$CONFIG_DIR/acl-rules" ]; then
      while read -r _user _rules; do
        [ -n "$_user" ] || continue
        printf 'user %s on %s %s\\n' "$_user" "$(conf_quote ">$(cat "$AUTH_DIR/acl-$_user")")" "$_rules"
      done < "$CONFIG_DIR/acl-rules"
    fi`;

/**
 * A data member's probe script, `<script> startup|liveness|readiness`. `startup` and `liveness` pass
 * when the server answers anything (also LOADING during a long sync), so a failover or an initial
 * sync never gets a pod killed; `readiness` runs `readinessFirst` (shell lines, may `exit 1`), then
 * passes for a primary, or for a replica whose link to its primary is up.
 */
export function renderDataProbe(o: { readonly title: string; readonly commonSh: string; readonly readinessFirst?: string }): string {
  return `#!/bin/sh
# ${o.title} startup|liveness|readiness
. ${o.commonSh}
case "\${1:-readiness}" in
  startup|liveness)
    rcli 127.0.0.1 "$REDIS_PORT" PING >/dev/null ;;
  readiness)
${o.readinessFirst !== undefined ? `${o.readinessFirst}\n` : ''}    info=$(rcli 127.0.0.1 "$REDIS_PORT" INFO replication) || exit 1
    case "$info" in
      *role:master*) exit 0 ;;
      *master_link_status:up*) exit 0 ;;
    esac
    exit 1 ;;
  *) echo "usage: $0 startup|liveness|readiness" >&2; exit 2 ;;
esac
`;
}
