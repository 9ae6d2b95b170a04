import { PATHS, PATH_SHELL_CONSTANTS } from '../redis/paths';
import { renderDataProbe, SH_AUTH_CONF_LINES, SH_CONF_QUOTE, SH_LOG, SH_PASSWORD, SH_RCLI, SH_ROLE_OF, shellConstants } from '../redis/shell';
import { SentinelRedisModel } from './model';
import { RESTORE_DISCARD_LINE, RESTORE_LOAD_LINE } from '../backup/backup-scripts';

/**
 * How often each sentinel asks every data member for INFO, in ms (Sentinel's default is 10 s; it is
 * set at run time by the sentinel entrypoint). During a failover Sentinel asks the replicas every
 * second whatever this is, so the planned handover times its request against this period.
 */
export const SENTINEL_INFO_PERIOD_MS = 1000;

/** How old a sentinel's link to a member must be before unanswered pings make it reconnect (Sentinel's default: 15 s). */
export const SENTINEL_MIN_LINK_RECONNECT_MS = 3000;

/**
 * How old the asked sentinel's last INFO reply from the replica it will promote should be when the
 * planned handover asks it to fail over: its next INFO comes about a period minus this later, after
 * the promotion (which takes the sentinel two or three 50-100 ms ticks), so it records the new
 * primary about half a second after the request instead of a second or more.
 */
export const FAILOVER_REQUEST_AT_INFO_AGE_MS = 500;

/** The scripts each kind of pod runs (members.sh aside, see {@link podChecksumDocuments}). */
export const POD_SCRIPTS = {
  data: ['common.sh', 'redis-entrypoint.sh', 'redis-probe.sh', 'redis-prestop.sh'],
  sentinel: ['common.sh', 'sentinel-entrypoint.sh', 'sentinel-probe.sh', 'sentinel-prestop.sh'],
} as const;

/** The config files each kind of pod reads. */
export const POD_CONFIG_FILES = {
  data: ['redis.conf', 'acl-rules', 'kvrocks.conf'],
  sentinel: ['sentinel.conf', 'sentinel-master.conf'],
} as const;

/** The entries of `files` named in `keys` (those present). */
function pick(files: Readonly<Record<string, string>>, keys: readonly string[]): Record<string, string> {
  return Object.fromEntries(keys.filter((k) => files[k] !== undefined).map((k) => [k, files[k]]));
}

/**
 * What a pod template's checksum covers: the config files and scripts that kind of pod reads, so a
 * change rolls only the pods it concerns. Of members.sh, which pods read again whenever they use it
 * (see {@link renderMembersSh}), only the sentinels' count and quorum: a new sentinel count or
 * quorum rolls the sentinels (so none waits for a voter that is gone or votes with an old quorum),
 * while adding or removing a data member restarts no pod at all.
 */
export function podChecksumDocuments(kind: 'data' | 'sentinel', m: SentinelRedisModel, config: Readonly<Record<string, string>>, scripts: Readonly<Record<string, string>>): Array<Record<string, string>> {
  const docs = [pick(config, POD_CONFIG_FILES[kind]), pick(scripts, POD_SCRIPTS[kind])];
  if (kind === 'sentinel') docs.push({ sentinels: String(m.sentinels), quorum: String(m.quorum) });
  return docs;
}

/**
 * members.sh: how many data members and sentinels the topology has, and the quorum. Sourced by
 * common.sh and again by every loop that waits or watches (load_members), because the kubelet
 * updates a mounted ConfigMap in place: a running pod sees a scaled topology within about a minute
 * without a restart. The sentinels' pod template carries its checksum (a new sentinel count or
 * quorum rolls the sentinels, so no sentinel waits for a voter that is gone); the data members'
 * does not (adding or removing a replica restarts no other member).
 */
export function renderMembersSh(m: SentinelRedisModel): string {
  return `# members.sh for ${m.namespace}/${m.name}, rendered by redis-topologies. Sourced, not run.
DATA_MEMBERS=${m.dataMembers}
SENTINELS=${m.sentinels}
QUORUM=${m.quorum}
`;
}

/**
 * common.sh: the topology's constants and the helpers every entrypoint and probe uses. The pod's
 * own name comes from the POD_NAME environment variable (fieldRef metadata.name).
 */
export function renderCommonSh(m: SentinelRedisModel): string {
  const constants: Record<string, string | number> = {
    MASTER_NAME: m.masterName,
    NAMESPACE: m.namespace,
    CLUSTER_DOMAIN: m.clusterDomain,
    REDIS_PORT: m.redisPort,
    SENTINEL_PORT: m.sentinelPort,
    DATA_STS: m.dataStatefulSet,
    DATA_HEADLESS: m.dataHeadlessService,
    SENTINEL_STS: m.sentinelStatefulSet,
    SENTINEL_HEADLESS: m.sentinelHeadlessService,
    ...PATH_SHELL_CONSTANTS,
    STATE_DIR: PATHS.state,
    TLS: m.tls ? 1 : 0,
    BOOT_TIMEOUT: m.bootTimeoutSeconds,
  };
  const header = shellConstants(constants);
  return `# common.sh for ${m.namespace}/${m.name}, rendered by redis-topologies. Sourced, not run.
${header}

: "\${POD_NAME:?POD_NAME must be set (fieldRef metadata.name)}"
ORDINAL="\${POD_NAME##*-}"

${SH_LOG}

# The member and sentinel counts and the quorum, read again on every call (see members.sh).
load_members() { . "$SCRIPTS_DIR/members.sh"; }
load_members

# The stable DNS names of data member $1 and sentinel $1.
data_host() { printf '%s-%s.%s.%s.svc.%s' "$DATA_STS" "$1" "$DATA_HEADLESS" "$NAMESPACE" "$CLUSTER_DOMAIN"; }
sentinel_host() { printf '%s-%s.%s.%s.svc.%s' "$SENTINEL_STS" "$1" "$SENTINEL_HEADLESS" "$NAMESPACE" "$CLUSTER_DOMAIN"; }

${SH_PASSWORD}

# The sentinel run ID of sentinel host $1: 40 hex digits derived from its stable name.
sentinel_id() { printf '%s/%s' "$NAMESPACE" "$1" | sha1sum | cut -c1-40; }

${SH_CONF_QUOTE}

${SH_RCLI}

${SH_ROLE_OF}

# sentinel_view HOST: "<config-epoch> <primary>" as sentinel HOST sees the master group; nothing if
# it does not answer. A higher config epoch is a later failover that a majority of sentinels authorized.
# The epoch is read first, then the primary the sentinel gives clients. From the moment a failover's
# replica answers as primary, the sentinel that ran it holds the new epoch, but SENTINEL MASTER keeps
# the old address until the other replicas follow (+switch-master); GET-MASTER-ADDR-BY-NAME already
# names the promoted one. Read in this order, a view may pair an older epoch with the new primary
# (it loses to the views holding the new epoch) but never the new epoch with the demoted member. Seen
# under load: a sentinel restarted during a planned handover took "new epoch, old primary" from that
# window and the sentinels then monitored a replica, refusing every later failover.
sentinel_view() {
  _ve=$(rcli "$1" "$SENTINEL_PORT" SENTINEL MASTER "$MASTER_NAME" \\
    | awk 'NR % 2 == 1 { k = $0 } NR % 2 == 0 { v[k] = $0 } END { if (v["ip"] != "") print v["config-epoch"] + 0 }')
  [ -n "$_ve" ] || return 0
  _va=$(rcli "$1" "$SENTINEL_PORT" SENTINEL get-master-addr-by-name "$MASTER_NAME" | head -n 1)
  [ -n "$_va" ] || return 0
  printf '%s %s\\n' "$_ve" "$_va"
}

# sentinel_switched_host HOST: the address SENTINEL MASTER records for the master group on sentinel
# HOST; it changes at +switch-master, once the failover's other replicas were told to follow.
sentinel_switched_host() {
  rcli "$1" "$SENTINEL_PORT" SENTINEL MASTER "$MASTER_NAME" | awk 'NR % 2 == 1 { k = $0 } NR % 2 == 0 { v[k] = $0 } END { print v["ip"] }'
}

# best_view: of the "<epoch> <host>" lines on stdin, the host with the highest epoch (most lines on a tie).
best_view() { sort | uniq -c | sort -k2,2nr -k1,1nr | head -n 1 | awk '{ print $2, $3 }'; }

# sentinel_views [SKIP]: the views of every sentinel that answers (except sentinel host SKIP), one per line.
sentinel_views() {
  _skip=\${1:-}; _i=0
  while [ "$_i" -lt "$SENTINELS" ]; do
    _s=$(sentinel_host "$_i")
    if [ "$_s" != "$_skip" ]; then sentinel_view "$_s" || true; fi
    _i=$((_i + 1))
  done
}

# The primary the sentinels agree on: when at least QUORUM sentinels answer, the host with the highest
# config epoch among their views. Nothing when fewer answer, so one stale sentinel (say, one that was
# down during the last failover and came back first after a full outage) never decides alone.
sentinel_master() {
  _views=$(sentinel_views)
  [ -n "$_views" ] || return 0
  if [ "$(printf '%s\\n' "$_views" | wc -l)" -ge "$QUORUM" ]; then
    printf '%s\\n' "$_views" | best_view | awk '{ print $2 }'
  fi
}

# Status 0 when this member has never written data (a true first boot, or a cache without persistence).
${m.engine === 'kvrocks' ? 'data_empty() { [ ! -e "$DATA_DIR/db/CURRENT" ]; }' : 'data_empty() { [ ! -e "$DATA_DIR/appendonlydir" ] && [ ! -e "$DATA_DIR/dump.rdb" ]; }'}

# A data member other than $1 that answers ROLE as master; status 1 if none.
find_other_master() {
  _i=0
  while [ "$_i" -lt "$DATA_MEMBERS" ]; do
    _h=$(data_host "$_i")
    if [ "$_h" != "$1" ] && [ "$(role_of "$_h")" = master ]; then printf '%s' "$_h"; return 0; fi
    _i=$((_i + 1))
  done
  return 1
}

# Status 0 when a data member other than $1 runs a server that the sentinels could promote: it
# answers, and its replica-priority is not 0. Asked of the member itself, not of the sentinels, whose
# knowledge of a re-created member may lag: a member the sentinels cannot see yet may still be
# promoted by them a moment later.
promotable_member_alive() {
  _i=0
  while [ "$_i" -lt "$DATA_MEMBERS" ]; do
    _h=$(data_host "$_i")
    if [ "$_h" != "$1" ]; then
      _prio=$(rcli "$_h" "$REDIS_PORT" CONFIG GET ${m.engine === 'kvrocks' ? 'slave-priority' : 'replica-priority'} | sed -n 2p)
      if [ -n "$_prio" ] && [ "$_prio" != 0 ]; then printf '%s' "$_h"; return 0; fi
    fi
    _i=$((_i + 1))
  done
  return 1
}
`;
}

/**
 * Data member entrypoint. Decides the role BEFORE starting redis-server, so a restarted primary
 * never serves a write that a failover will wipe, and no member claims the primary role while the
 * sentinels could still promote another:
 * - sentinels name another member, and it answers as primary: start as its replica;
 * - sentinels still name this pod (it crashed and came back before they failed over): wait, with no
 *   time limit, while another member runs that the sentinels could promote (their failover may be
 *   backing off after an abort); resume as primary only when no such member runs;
 * - no quorum of sentinels answers: join a member that answers as primary; otherwise only ordinal 0
 *   with no data and no other member running may start as primary (a true first boot).
 * After a full outage the sentinels name the last primary from their state volume, so the member
 * with the newest data is the one that resumes.
 */
export function renderRedisEntrypoint(m: SentinelRedisModel): string {
  const kvrocks = m.engine === 'kvrocks';
  return `#!/bin/sh
# Data member entrypoint for ${m.namespace}/${m.name}, rendered by redis-topologies.
set -eu
. ${PATHS.scripts}/common.sh
SELF=$(data_host "$ORDINAL")
RUNTIME="$RUN_DIR/${kvrocks ? 'kvrocks.conf' : 'redis.conf'}"

# write_conf [PRIMARY_HOST]: the runtime config; without an argument this member starts as primary.
write_conf() {
  umask 077
  {
${kvrocks
    // Kvrocks has no include: the runtime file is kvrocks.conf plus this member's lines.
    ? `    cat "$CONFIG_DIR/kvrocks.conf"`
    : `    printf 'include %s/redis.conf\\n' "$CONFIG_DIR"`}
    printf 'replica-announce-ip %s\\n' "$SELF"
${SH_AUTH_CONF_LINES}
    if [ -n "\${1:-}" ]; then printf '${kvrocks ? 'slaveof' : 'replicaof'} %s %s\\n' "$1" "$REDIS_PORT"; fi
  } > "$RUNTIME.tmp"
  mv "$RUNTIME.tmp" "$RUNTIME"
}

start=$(date +%s)
${m.restore ? 'first_boot=0\n' : ''}if [ "$SENTINELS" -eq 0 ]; then
  log "development mode (no sentinels): starting as the only member"
${m.restore ? '  if data_empty; then first_boot=1; fi\n' : ''}  write_conf
else
  while :; do
    waited=$(( $(date +%s) - start ))
    load_members
    primary=$(sentinel_master)
    if [ -n "$primary" ] && [ "$primary" != "$SELF" ]; then
      if [ "$(role_of "$primary")" = master ]; then
        log "sentinels name $primary as primary: starting as its replica"
        write_conf "$primary"; break
      fi
      log "sentinels name $primary as primary, but it does not answer as one yet"
    elif [ -n "$primary" ]; then
      if other=$(find_other_master "$SELF"); then
        log "sentinels still name this pod, but $other answers as primary: starting as its replica"
        write_conf "$other"; break
      fi
      if ! candidate=$(promotable_member_alive "$SELF"); then
        log "sentinels name this pod as primary and no member they could promote is running: resuming as primary"
        ${m.restore ? `# No data: a new topology whose sentinels came up first (a restore may load now).
        if data_empty; then first_boot=1; fi
        ` : ''}write_conf; break
      fi
      # No timer: a failover the sentinels aborted is retried after their back-off (twice the
      # failover-timeout), and a member that resumed before that would lose its writes to it.
      log "sentinels still name this pod as primary: waiting for them to promote $candidate"
    else
      if other=$(find_other_master "$SELF"); then
        log "no sentinel answers; $other answers as primary: starting as its replica"
        write_conf "$other"; break
      fi
      if [ "$ORDINAL" = 0 ] && data_empty && ! promotable_member_alive "$SELF" >/dev/null; then
        log "no sentinel knows a primary, no member runs, and this one has no data: first boot, starting as primary"
        ${m.restore ? 'first_boot=1; ' : ''}write_conf; break
      fi
      log "no quorum of sentinels names a primary yet; waiting for them"
    fi
    if [ "$waited" -ge "$BOOT_TIMEOUT" ]; then
      log "no usable primary after \${waited}s; exiting so Kubernetes restarts this pod"
      exit 1
    fi
    sleep 1
  done
fi
${m.restore ? `# Created from a backup: the first boot loads it before serving; any other boot discards it.
if [ "$first_boot" = 1 ]; then ${RESTORE_LOAD_LINE}; else ${RESTORE_DISCARD_LINE}; fi
` : ''}exec ${kvrocks ? 'kvrocks -c' : 'redis-server'} "$RUNTIME"
`;
}

/**
 * Sentinel entrypoint: monitors the primary its peers name; failing that, a data member that
 * answers as primary; failing that (first boot), ordinal 0. Waits until that name resolves, since
 * Sentinel refuses a monitor line it cannot resolve.
 */
export function renderSentinelEntrypoint(m: SentinelRedisModel): string {
  return `#!/bin/sh
# Sentinel entrypoint for ${m.namespace}/${m.name}, rendered by redis-topologies.
set -eu
. ${PATHS.scripts}/common.sh
SELF=$(sentinel_host "$ORDINAL")
RUNTIME="$RUN_DIR/sentinel.conf"
# down-after-milliseconds while a cold start waits for the primary to come up.
COLD_DOWN_AFTER=${Math.max(30000, m.downAfterMilliseconds)}

start=$(date +%s)
while :; do
  waited=$(( $(date +%s) - start ))
  # What the peers see and what this sentinel saw last (kept across restarts of this pod): the view
  # with the highest config epoch wins, as it does between running sentinels.
  view=$({ sentinel_views "$SELF"; cat "$STATE_DIR/view" 2>/dev/null || true; } | best_view)
  epoch=0
  if [ -n "$view" ]; then
    epoch=\${view%% *}; primary=\${view#* }
    log "peers or this sentinel's last view name $primary as primary (config epoch $epoch)"
  elif primary=$(find_other_master ""); then
    log "no peer knows a primary; $primary answers as one"
  else
    primary=$(data_host 0)
    log "no peer or member knows a primary: first boot, monitoring ordinal 0 ($primary)"
  fi
  if getent hosts "$primary" >/dev/null 2>&1; then break; fi
  if [ "$waited" -ge "$BOOT_TIMEOUT" ]; then
    log "$primary does not resolve after \${waited}s; exiting so Kubernetes restarts this pod"
    exit 1
  fi
  log "waiting for $primary to resolve"
  sleep 1
done

# Is the primary up? If not (every pod restarting at once), start with a long down-after period.
cold=0
if [ "$(role_of "$primary")" != master ]; then cold=1; log "$primary is not up yet: cold start"; fi
DOWN_AFTER=$(awk '$2 == "down-after-milliseconds" { print $4 }' "$CONFIG_DIR/sentinel-master.conf")

umask 077
{
  cat "$CONFIG_DIR/sentinel.conf"
  printf 'sentinel announce-ip %s\\n' "$SELF"
  printf 'sentinel announce-port %s\\n' "$SENTINEL_PORT"
  # A run ID derived from the pod's stable name: a restarted sentinel is the same voter to its
  # peers, instead of a new one beside a stale entry that inflates the majority a failover needs.
  printf 'sentinel myid %s\\n' "$(sentinel_id "$SELF")"
  printf 'requirepass %s\\n' "$(conf_quote "$(password)")"
  printf 'sentinel monitor %s %s %s %s\\n' "$MASTER_NAME" "$primary" "$REDIS_PORT" "$QUORUM"
  printf 'sentinel config-epoch %s %s\\n' "$MASTER_NAME" "$epoch"
  printf 'sentinel current-epoch %s\\n' "$epoch"
  printf 'sentinel auth-pass %s %s\\n' "$MASTER_NAME" "$(conf_quote "$(password)")"
  cat "$CONFIG_DIR/sentinel-master.conf"
  if [ "$cold" = 1 ]; then
    # Cold start: the primary is not up yet. Give it time to start before declaring it down, so the
    # sentinels do not promote a replica that is still loading or syncing (its data may be stale).
    printf 'sentinel down-after-milliseconds %s %s\\n' "$MASTER_NAME" "$COLD_DOWN_AFTER"
  fi
  # Every other data member and sentinel whose name resolves now is known from the start, so a
  # primary lost in this sentinel's first seconds still has a candidate replica and the full set
  # of voters (otherwise they are learnt from INFO and hello messages within seconds).
  # Sentinel refuses a config line whose name does not resolve, hence the check.
  _i=0
  while [ "$_i" -lt "$DATA_MEMBERS" ]; do
    _h=$(data_host "$_i")
    if [ "$_h" != "$primary" ] && getent hosts "$_h" >/dev/null 2>&1; then
      printf 'sentinel known-replica %s %s %s\\n' "$MASTER_NAME" "$_h" "$REDIS_PORT"
    fi
    _i=$((_i + 1))
  done
  _i=0
  while [ "$_i" -lt "$SENTINELS" ]; do
    _h=$(sentinel_host "$_i")
    if [ "$_h" != "$SELF" ] && getent hosts "$_h" >/dev/null 2>&1; then
      printf 'sentinel known-sentinel %s %s %s %s\\n' "$MASTER_NAME" "$_h" "$SENTINEL_PORT" "$(sentinel_id "$_h")"
    fi
    _i=$((_i + 1))
  done
} > "$RUNTIME.tmp"
mv "$RUNTIME.tmp" "$RUNTIME"

# After a cold start, the usual down-after period once the primary answers (or after the grace).
if [ "$cold" = 1 ]; then
  (
    cold_start=$(date +%s)
    while sleep 1; do
      current=$(sentinel_view 127.0.0.1 | awk '{ print $2 }') || continue
      # Up as this sentinel sees it: flags just "master" and a ping answered within half the usual
      # period. A sentinel counts a primary down from its last answered ping, so lowering the period
      # as soon as the primary answers someone else (before this sentinel's own ping was answered)
      # would make every sentinel see it down at once and fail over to a replica that may not have
      # synced yet (seen under load: the stale member promoted after a full outage).
      seen=$(rcli 127.0.0.1 "$SENTINEL_PORT" SENTINEL MASTER "$MASTER_NAME" \\
        | awk 'NR % 2 == 1 { k = $0 } NR % 2 == 0 { v[k] = $0 } END { print v["flags"], v["last-ok-ping-reply"] + 0 }')
      if { [ -n "$current" ] && [ "\${seen%% *}" = master ] && [ "\${seen#* }" -lt $(( DOWN_AFTER / 2 )) ] && [ "$(role_of "$current")" = master ]; } \\
        || [ $(( $(date +%s) - cold_start )) -ge $(( COLD_DOWN_AFTER / 1000 )) ]; then
        if rcli 127.0.0.1 "$SENTINEL_PORT" SENTINEL SET "$MASTER_NAME" down-after-milliseconds "$DOWN_AFTER" | grep -q OK; then
          log "primary $current is up: down-after-milliseconds back to $DOWN_AFTER"
          exit 0
        fi
      fi
    done
  ) &
fi

# Forget members that are no longer part of the topology. After a scale-in, the master group still
# lists the removed replicas (and peers), down; a replica that is gone only clutters what clients
# read, but a peer that is gone counts as a voter that never answers. Only what is down and outside
# members.sh is stale; a member that is merely restarting is kept. One sentinel at a time (staggered
# by ordinal), and never during a failover, SENTINEL RESET makes this sentinel rediscover the
# replicas from the primary and its peers from their hello messages within seconds.
stale_members() {
  load_members
  {
    rcli 127.0.0.1 "$SENTINEL_PORT" SENTINEL REPLICAS "$MASTER_NAME" | awk '$0 == "ip" { getline; h = $0 } $0 == "flags" { getline; if ($0 ~ /s_down/) print "replica", h }'
    rcli 127.0.0.1 "$SENTINEL_PORT" SENTINEL SENTINELS "$MASTER_NAME" | awk '$0 == "ip" { getline; h = $0 } $0 == "flags" { getline; if ($0 ~ /s_down/) print "sentinel", h }'
  } | while read -r _kind _h; do
    _i=0; _known=0
    _n=$DATA_MEMBERS; [ "$_kind" = sentinel ] && _n=$SENTINELS
    while [ "$_i" -lt "$_n" ]; do
      if [ "$_kind" = replica ] && [ "$(data_host "$_i")" = "$_h" ]; then _known=1; fi
      if [ "$_kind" = sentinel ] && [ "$(sentinel_host "$_i")" = "$_h" ]; then _known=1; fi
      _i=$((_i + 1))
    done
    [ "$_known" = 1 ] || printf '%s %s\\n' "$_kind" "$_h"
  done
}
(
  while sleep 10; do
    [ -n "$(stale_members)" ] || continue
    sleep $(( ORDINAL * 5 ))
    stale=$(stale_members)
    [ -n "$stale" ] || continue
    case "$(rcli 127.0.0.1 "$SENTINEL_PORT" SENTINEL MASTER "$MASTER_NAME" | awk '$0 == "flags" { getline; print }')" in
      *failover*|*s_down*) continue ;;
    esac
    log "forgetting members outside the topology: $(printf '%s' "$stale" | tr '\\n' ' ')"
    rcli 127.0.0.1 "$SENTINEL_PORT" SENTINEL RESET "$MASTER_NAME" >/dev/null || true
  done
) &

# Two run-time settings (SENTINEL DEBUG, Redis 7.0+; not sentinel.conf directives):
# - info-period: INFO to each data member every ${SENTINEL_INFO_PERIOD_MS} ms instead of 10 s. A replica re-created
#   at a new address is promotable again within about two periods instead of 10-20 s, and a planned
#   handover can time its failover request (redis-prestop.sh). The cost is one INFO per member and second.
# - min-link-reconnect-period: a link whose pings go unanswered (its member was re-created at a new
#   address) is dropped and reconnected, resolving the name again, once it is ${SENTINEL_MIN_LINK_RECONNECT_MS} ms old
#   instead of 15 s: a member re-created soon after the last reconnect is followed within seconds.
(
  n=0
  while [ "$n" -lt 120 ]; do
    sleep 0.5
    if [ "$(rcli 127.0.0.1 "$SENTINEL_PORT" SENTINEL DEBUG info-period ${SENTINEL_INFO_PERIOD_MS} min-link-reconnect-period ${SENTINEL_MIN_LINK_RECONNECT_MS})" = OK ]; then
      log "INFO period ${SENTINEL_INFO_PERIOD_MS} ms, link reconnect after ${SENTINEL_MIN_LINK_RECONNECT_MS} ms"; exit 0
    fi
    n=$((n + 1))
  done
  log "could not set the INFO period and link reconnect time: Sentinel's defaults (10 s, 15 s) apply"
) &

# Keep this sentinel's view on the state volume (no secret in it), so that after a full outage the
# sentinels remember the last primary instead of falling back to ordinal 0.
(
  while sleep 1; do
    v=$(sentinel_view 127.0.0.1) || continue
    [ -n "$v" ] || continue
    [ "$v" = "$(cat "$STATE_DIR/view" 2>/dev/null || true)" ] && continue
    printf '%s\\n' "$v" > "$STATE_DIR/view.tmp" && mv "$STATE_DIR/view.tmp" "$STATE_DIR/view"
  done
) &
exec redis-sentinel "$RUNTIME"
`;
}

/**
 * preStop hook of the data members. A primary that stops for a planned reason (a rolling update, a
 * node drain, an eviction, a scale-in) hands its role to an in-sync replica first, so no
 * acknowledged write is lost and clients wait about a second instead of a crash failover:
 * 1. `CLIENT PAUSE WRITE`: clients' writes wait (they are not refused), reads go on;
 * 2. wait until every replica has applied every write (each replica's own offset, read from the
 *    replica, so there is no wait for the once-a-second acknowledgement);
 * 3. `SENTINEL FAILOVER`: the sentinels promote a replica and record it under a new config epoch
 *    (asked of a sentinel that, before writes were paused, could promote every online replica: one
 *    that has not yet reconnected to a re-created replica would refuse for up to 10 s);
 * 4. as soon as another member answers as primary, become its replica (the sentinels would do it
 *    only after about 8 s, and the portals refuse clients while two members answer as primary);
 * 5. disconnect the clients (their waiting writes were never executed, so never acknowledged) and
 *    end the pause: they reconnect to the new primary, through a portal as soon as its checks see the
 *    roles change, through the sentinels as soon as the sentinel that ran the failover records it.
 * A replica stopping needs none of this, and it triggers no failover. When a step cannot be done in
 * time (no replica in sync, no sentinel answers), writes resume and the pod stops as before: the
 * sentinels then fail over as after a crash. Every step is bounded; the whole hook by
 * `handoverSeconds`, inside the pod's termination grace period.
 */
export function renderRedisPreStop(m: SentinelRedisModel): string {
  if (m.engine === 'kvrocks') return renderKvrocksPreStop(m);
  return `#!/bin/sh
# Data member preStop hook for ${m.namespace}/${m.name}, rendered by redis-topologies.
set -u
. ${PATHS.scripts}/common.sh
SELF=$(data_host "$ORDINAL")
HANDOVER_SECONDS=${m.handoverSeconds}
INFO_PERIOD=${SENTINEL_INFO_PERIOD_MS}
# Writes wait at most SYNC_BUDGET ms for the replicas (no sentinel asked yet), and at most PAUSE_BUDGET ms
# in all before the pod stops anyway.
SYNC_BUDGET=3000
PAUSE_BUDGET=6000
FAILOVER_AT_AGE=${FAILOVER_REQUEST_AT_INFO_AGE_MS}
# While writes wait, every process started counts: the clock and the parsing below start none.
# stamp: NOW = milliseconds since boot (10 ms resolution), read from /proc/uptime by the shell itself.
stamp() { read -r _up _idle < /proc/uptime; _s=\${_up%.*}; _c=\${_up#*.}; NOW=$(( _s * 1000 + \${_c#0} * 10 )); }
stamp; T0=$NOW
say() { stamp; hook_log "preStop +$(( NOW - T0 ))ms: $*"; }
# field NAME TEXT: the digits after "NAME:" in INFO output TEXT (nothing if absent).
field() { case "$2" in *"$1":*) _v=\${2#*"$1":}; printf '%s' "\${_v%%[!0-9]*}" ;; esac; }
resume() { rcli 127.0.0.1 "$REDIS_PORT" CLIENT UNPAUSE >/dev/null || true; }
# promotable_by SENTINEL: "<host> <run ID>" of the replicas that sentinel could promote now, sorted,
# one per line: linked, not down or disconnected, answering pings, INFO fresh, priority not 0
# (Sentinel's own criteria, asked for a link that works now: a ping answered within 2 s, INFO within a
# period and 200 ms; Sentinel itself accepts 5 s and three periods, which leaves the time until the
# request as a margin). The run ID is the one of the process its last INFO came from.
promotable_by() {
  rcli "$1" "$SENTINEL_PORT" SENTINEL REPLICAS "$MASTER_NAME" | awk -v fresh=$(( INFO_PERIOD + 200 )) '
    function flush() { if (ip != "" && flags == "slave" && link == "ok" && ping < 2000 && info < fresh && prio != "0") print ip, id }
    $0 == "name" { flush(); ip = ""; id = ""; flags = ""; link = ""; ping = 99999; info = 99999; prio = "0"; next }
    $0 == "ip" { getline; ip = $0; next }
    $0 == "runid" { getline; id = $0; next }
    $0 == "flags" { getline; flags = $0; next }
    $0 == "master-link-status" { getline; link = $0; next }
    $0 == "last-ok-ping-reply" { getline; ping = $0 + 0; next }
    $0 == "info-refresh" { getline; info = $0 + 0; next }
    $0 == "slave-priority" { getline; prio = $0; next }
    END { flush() }' | sort
}
# next_info_age SENTINEL: how old (ms) that sentinel's last INFO reply is from the replica it would
# promote now (Sentinel's order: lowest priority, then highest offset, then lowest run ID).
next_info_age() {
  rcli "$1" "$SENTINEL_PORT" SENTINEL REPLICAS "$MASTER_NAME" | awk '
    function flush() {
      if (ip != "" && flags == "slave" && link == "ok" && prio != "0" && (best == "" || prio + 0 < bp || (prio + 0 == bp && (off > bo || (off == bo && id < bi))))) {
        best = ip; bp = prio + 0; bo = off; bi = id; age = info
      }
    }
    $0 == "name" { flush(); ip = ""; flags = ""; link = ""; prio = "0"; off = 0; id = ""; info = ""; next }
    $0 == "ip" { getline; ip = $0; next }
    $0 == "runid" { getline; id = $0; next }
    $0 == "flags" { getline; flags = $0; next }
    $0 == "master-link-status" { getline; link = $0; next }
    $0 == "info-refresh" { getline; info = $0; next }
    $0 == "slave-priority" { getline; prio = $0; next }
    $0 == "slave-repl-offset" { getline; off = $0 + 0; next }
    END { flush(); if (best != "") print age }'
}
# align_failover: sleeps until pausing now puts the failover request (three commands later) when the
# asked sentinel's last INFO from the replica it will promote is FAILOVER_AT_AGE ms old. The sentinel
# records the promotion only from its next INFO reply, one period after the last: asked right after
# one, it would wait most of a period; asked just before one, the reply would come before the
# promotion and the next a period later.
align_failover() {
  stamp; _t0=$NOW
  _age=$(next_info_age "$asked")
  stamp; _t1=$NOW
  case "$_age" in ''|*[!0-9]*) return 0 ;; esac
  _lead=$(( 3 * (_t1 - _t0) ))
  [ "$_lead" -le 400 ] || _lead=400
  _w=$(( (FAILOVER_AT_AGE - _lead - _age) % INFO_PERIOD ))
  [ "$_w" -ge 0 ] || _w=$(( _w + INFO_PERIOD ))
  say "the sentinel's last INFO from the replica it will promote is $_age ms old: pausing in $_w ms"
  sleep "$(( _w / 1000 )).$(( _w % 1000 / 100 ))$(( _w % 100 / 10 ))$(( _w % 10 ))"
}
NL='
'
# left: seconds of the hook's budget left, in LEFT.
left() { stamp; LEFT=$(( HANDOVER_SECONDS - (NOW - T0) / 1000 )); }

[ "$SENTINELS" -gt 0 ] || exit 0
info=$(rcli 127.0.0.1 "$REDIS_PORT" INFO replication) || exit 0
case "$info" in *role:master*) ;; *) say "a replica stops: nothing to hand over"; exit 0 ;; esac
# Replicas as "<host> <state>", from this primary's view.
replicas=$(printf '%s\\n' "$info" | tr -d '\\r' | sed -n 's/^slave[0-9]*:ip=\\([^,]*\\),port=[0-9]*,state=\\([a-z_]*\\),.*/\\1 \\2/p')
if ! printf '%s\\n' "$replicas" | grep -q ' online$'; then
  say "no replica is online: stopping without a handover (the sentinels fail over)"
  exit 0
fi

# 0. Before writes wait: a sentinel that could promote every online replica now, as the process that
# runs now. A replica just re-created (a rolling update) is not promotable for a sentinel until it has
# reconnected to it and read its INFO again (up to 10 s): asking then would hold writes that long. A
# sentinel whose last INFO, still fresh, came from the process before (its link to the old address not
# yet found dead) would send the promotion down that link, where nobody executes it (seen under load:
# writes held 7 s until another sentinel's failover).
online=$(printf '%s\\n' "$replicas" | awk '$2 == "online" { print $1 }' | sort)
replica_hosts=$(printf '%s\\n' "$replicas" | awk '{ print $1 }')
replica_count=$(printf '%s\\n' "$replica_hosts" | grep -c .)
# online_now: "<host> <run ID>" of the online replicas, each as the replica itself answers, sorted.
online_now() {
  for _h in $online; do
    printf '%s %s\\n' "$_h" "$(rcli_for 1 "$_h" "$REDIS_PORT" INFO server | tr -d '\\r' | sed -n 's/^run_id://p')"
  done | sort
}
asked=""
while [ -z "$asked" ] && left && [ "$LEFT" -gt $(( PAUSE_BUDGET / 1000 + 4 )) ]; do
  want=$(online_now)
  i=0
  while [ "$i" -lt "$SENTINELS" ]; do
    s=$(sentinel_host "$i")
    if [ "$(promotable_by "$s")" = "$want" ]; then asked=$s; break; fi
    i=$((i + 1))
  done
  [ -n "$asked" ] || sleep 0.2
done
if [ -z "$asked" ]; then
  say "no sentinel could promote the replicas in time: stopping without a handover (the sentinels fail over)"
  exit 0
fi
say "$asked can promote: $(printf '%s' "$online" | tr '\\n' ' ')"
align_failover
# Writes may wait up to PAUSE_BUDGET ms, and the hook needs that much of its budget left (plus a
# margin): otherwise the pod stops without a handover, as after a crash.
left
if [ "$LEFT" -le $(( PAUSE_BUDGET / 1000 + 2 )) ]; then
  say "$LEFT s of handoverSeconds left: stopping without a handover (the sentinels fail over)"
  exit 0
fi
# The sentinels to ask, the chosen one first (built before writes wait).
others=$(i=0; while [ "$i" -lt "$SENTINELS" ]; do h=$(sentinel_host "$i"); [ "$h" = "$asked" ] || echo "$h"; i=$((i + 1)); done)
# elapsed: ms since writes were paused, in ELAPSED.
elapsed() { stamp; ELAPSED=$(( NOW - paused )); }

# 1. Writes wait from here on; the pause ends by itself if this hook is killed.
stamp; paused=$NOW
# One connection: the pause, then the offset every replica must reach (nothing is written after it).
reply=$(printf 'CLIENT PAUSE %s WRITE\\nINFO replication\\n' "$(( HANDOVER_SECONDS * 1000 ))" | rcli 127.0.0.1 "$REDIS_PORT")
case "$reply" in
  OK*) target=$(field master_repl_offset "$reply") ;;
  *) say "CLIENT PAUSE was refused: stopping without a handover"; resume; exit 0 ;;
esac
[ -n "$target" ] || { resume; exit 0; }
stamp; t_pause_ack=$NOW

# 2. Every replica must hold every write: the sentinels may promote any of them. For at most
# SYNC_BUDGET ms; no sentinel has been asked yet, so on failure writes resume safely.
synced=0; checks=0
while :; do
  synced=1; checks=$((checks + 1))
  for h in $replica_hosts; do
    off=$(field slave_repl_offset "$(rcli_for 1 "$h" "$REDIS_PORT" INFO replication)")
    if [ -z "$off" ] || [ "$off" -lt "$target" ]; then synced=0; break; fi
  done
  [ "$synced" = 1 ] && break
  elapsed; [ "$ELAPSED" -lt "$SYNC_BUDGET" ] || break
  sleep 0.05
done
if [ "$synced" != 1 ]; then
  say "a replica is not in sync after $(( SYNC_BUDGET / 1000 )) s: writes resume, stopping without a handover"
  resume; exit 0
fi
stamp; t_synced=$NOW

# 3. Ask that sentinel to fail over; the others in turn only after a refusal or a refused connection
# (it may be stopping itself, in a roll of the sentinels at the same time). A request that timed out
# may have started a failover: no other sentinel is asked (two forced failovers could promote two
# replicas), and from here on writes never resume on this member: if the handover does not complete,
# the pod stops with writes still paused, and the sentinels finish or redo the failover.
started=""; unsure=""
for s in "$asked" $others; do
  elapsed; [ "$ELAPSED" -lt $(( SYNC_BUDGET + 2000 )) ] || break
  r=$(rcli_for 1 "$s" "$SENTINEL_PORT" SENTINEL FAILOVER "$MASTER_NAME"); st=$?
  case "$r" in
    OK*|*INPROG*) started=$s; break ;;
  esac
  if [ "$st" = 124 ]; then unsure=$s; break; fi
done
if [ -z "$started" ] && [ -z "$unsure" ]; then
  say "no sentinel would start a failover: writes resume, stopping without a handover"
  resume; exit 0
fi
if [ -z "$started" ]; then
  started=$unsure; say "$unsure did not answer the failover request in time; it may be running it"
elif [ "$started" != "$asked" ]; then
  say "$asked did not start the failover; $started did"
fi
asked=$started
stamp; t_started=$NOW

# 4. Follow the promoted replica as soon as it answers as primary (the sentinel promotes within a
# fraction of a second). Writes stay paused however this ends.
new=""
while :; do
  if new=$(find_other_master "$SELF"); then break; fi
  new=""
  elapsed; [ "$ELAPSED" -lt "$PAUSE_BUDGET" ] || break
  sleep 0.05
done
if [ -z "$new" ]; then
  say "no replica was promoted within $(( PAUSE_BUDGET / 1000 )) s of the pause: stopping with writes paused (the sentinels finish or redo the failover)"
  exit 0
fi
# At once: while two members answer as primary, the portals refuse clients.
rcli_for 1 127.0.0.1 "$REDIS_PORT" REPLICAOF "$new" "$REDIS_PORT" >/dev/null || true
stamp; t_promoted=$NOW

# 5. Clients keep waiting until the sentinel that ran the failover names the new primary (it learns the
# promotion from its next INFO reply; at most 1.25 s more): a client that reconnected earlier would be
# told the old address, find a replica and back off before asking again.
named=0
while :; do
  _a=$(rcli_for 1 "$asked" "$SENTINEL_PORT" SENTINEL get-master-addr-by-name "$MASTER_NAME")
  if [ "\${_a%%"$NL"*}" = "$new" ]; then named=1; break; fi
  stamp; [ $(( NOW - t_promoted )) -lt 1250 ] || break
  sleep 0.05
done
stamp; t_named=$NOW
# ... and, with one replica, for up to 0.4 s more, until it has switched the master group to it (the
# +switch-master event, which then follows within a tick). Clients that listen for that event (ioredis's
# failoverDetector) then reconnect while still connected here, instead of receiving it in the middle of
# a reconnect: ioredis 5 ends such a client for good ("Connection is closed."). With more replicas the
# switch waits for the sentinel to reconfigure the others (a second or more), by when the clients have
# long reconnected: no wait.
switched=0
if [ "$named" = 1 ] && [ "$replica_count" -eq 1 ]; then
  while :; do
    if [ "$(sentinel_switched_host "$asked")" = "$new" ]; then switched=1; break; fi
    stamp; [ $(( NOW - t_named )) -lt 400 ] || break
    sleep 0.05
  done
fi
stamp; t_switched=$NOW

# 6. In one session: disconnect the clients (not this session) and end the pause. Their waiting writes
# were never executed (so never acknowledged). They reconnect: through a portal, to the new primary
# (the portals' checks see the roles change within a few tenths of a second); through the sentinels,
# to the new primary, which the sentinels now name.
printf 'CLIENT KILL TYPE normal\\nCLIENT KILL TYPE pubsub\\nCLIENT UNPAUSE\\n' | rcli 127.0.0.1 "$REDIS_PORT" >/dev/null || resume
stamp; t_done=$NOW
# Logged once writes flow again: while they wait, every process counts.
if [ "$named" = 0 ]; then
  named="$asked did not name it within $(( t_named - t_promoted )) ms"
elif [ "$replica_count" -gt 1 ]; then
  named="$asked named it after $(( t_named - paused )) ms ($replica_count replicas: its switch follows their reconfiguration, not awaited)"
elif [ "$switched" = 1 ]; then
  named="$asked named it after $(( t_named - paused )) ms and switched to it after $(( t_switched - paused )) ms"
else
  named="$asked named it after $(( t_named - paused )) ms (not switched within 0.4 s)"
fi
say "writes paused at +$(( paused - T0 ))ms (acknowledged after $(( t_pause_ack - paused )) ms); every replica held every write after $(( t_synced - paused )) ms ($checks checks); $asked started the failover after $(( t_started - paused )) ms; $new answered as primary and was followed after $(( t_promoted - paused )) ms; $named"
say "handed the primary role to $new; writes paused $(( t_done - paused )) ms"
exit 0
`;
}

/**
 * Probes for data members. `startup` and `liveness` pass when the server answers anything (also
 * LOADING during a long sync), so a failover or an initial sync never gets a pod killed;
 * `readiness` passes for a primary, or for a replica whose link to the primary is up.
 */
export function renderRedisProbe(m: SentinelRedisModel): string {
  return renderDataProbe({ title: `Data member probe for ${m.namespace}/${m.name}: redis-probe.sh`, commonSh: `${PATHS.scripts}/common.sh` });
}

/** How long a stopping sentinel waits for a failover it runs, in seconds: the failover timeout and 2 s. */
export function sentinelPreStopSeconds(m: Pick<SentinelRedisModel, 'failoverTimeoutMilliseconds'>): number {
  return Math.ceil(m.failoverTimeoutMilliseconds / 1000) + 2;
}

/**
 * preStop hook of the sentinels. A sentinel stopping triggers no failover, but one that is running a
 * failover (a planned handover asked it, or the primary failed) aborts it by stopping: the primary's
 * handover would then wait for nothing, and a crash failover would start over. So a sentinel deleted
 * while it runs a failover (a roll of the sentinels during one of the data members, as an image change
 * does) first lets it end, for at most the failover timeout and 2 s. Otherwise it stops at once.
 */
export function renderSentinelPreStop(m: SentinelRedisModel): string {
  return `#!/bin/sh
# Sentinel preStop hook for ${m.namespace}/${m.name}, rendered by redis-topologies.
set -u
. ${PATHS.scripts}/common.sh
say() { hook_log "preStop: $*"; }
n=0
while [ "$n" -lt ${sentinelPreStopSeconds(m) * 5} ]; do
  case "$(rcli 127.0.0.1 "$SENTINEL_PORT" SENTINEL MASTER "$MASTER_NAME" | awk '$0 == "flags" { getline; print }')" in
    *failover_in_progress*) ;;
    *) [ "$n" = 0 ] || say "the failover ended"; break ;;
  esac
  [ "$n" = 0 ] && say "this sentinel runs a failover: stopping once it ends"
  sleep 0.2; n=$((n + 1))
done
if [ "$n" -ge ${sentinelPreStopSeconds(m) * 5} ]; then
  say "the failover still runs after ${sentinelPreStopSeconds(m)} s: stopping"
  exit 0
fi
# A failover this sentinel completed a moment ago reaches its peers only through its hello messages
# (every 2 s). Stopping before they have it would leave them on the demoted member, and a restarted
# sentinel would take their view (seen when the sentinels and members roll at once). So wait, within
# the same budget, until every peer that answers holds this sentinel's config epoch or a newer one.
SELF=$(sentinel_host "$ORDINAL")
mine=$(sentinel_view 127.0.0.1); mine=\${mine%% *}
start=$(date +%s); told=0
while [ -n "$mine" ] && [ $(( $(date +%s) - start )) -lt ${sentinelPreStopSeconds(m)} ]; do
  behind=$(sentinel_views "$SELF" | awk -v mine="$mine" '$1 < mine + 0' | grep -c .)
  if [ "$behind" -eq 0 ]; then [ "$told" = 0 ] || say "every peer holds config epoch $mine"; exit 0; fi
  [ "$told" = 1 ] || { say "waiting for $behind peer(s) to learn config epoch $mine"; told=1; }
  sleep 0.2
done
[ -z "$mine" ] || say "peers still behind config epoch $mine after ${sentinelPreStopSeconds(m)} s: stopping"
exit 0
`;
}

/** Probes for sentinels: alive when PING answers, ready when it knows the primary. */
export function renderSentinelProbe(m: SentinelRedisModel): string {
  return `#!/bin/sh
# Sentinel probe for ${m.namespace}/${m.name}: sentinel-probe.sh startup|liveness|readiness
. ${PATHS.scripts}/common.sh
case "\${1:-readiness}" in
  startup|liveness)
    [ "$(rcli 127.0.0.1 "$SENTINEL_PORT" PING)" = PONG ] ;;
  readiness)
    [ -n "$(rcli 127.0.0.1 "$SENTINEL_PORT" SENTINEL get-master-addr-by-name "$MASTER_NAME" | head -n 1)" ] ;;
  *) echo "usage: $0 startup|liveness|readiness" >&2; exit 2 ;;
esac
`;
}

/**
 * The flash tier's preStop hook: no planned handover. Kvrocks has no FAILOVER command
 * (apache/kvrocks#2848) and the handover's write pause needs CLIENT PAUSE (Kvrocks 2.16+), so a
 * primary stops as if it failed and the sentinels promote a replica after down-after-milliseconds;
 * SENTINEL FAILOVER is never used for a planned switchover.
 */
export function renderKvrocksPreStop(m: SentinelRedisModel): string {
  return `#!/bin/sh
# Data member preStop hook for ${m.namespace}/${m.name} (Kvrocks), rendered by redis-topologies.
set -u
. ${PATHS.scripts}/common.sh
if [ "$(role_of 127.0.0.1)" = master ]; then
  hook_log "stopping as primary: no planned handover with Kvrocks; the sentinels promote a replica after ${m.downAfterMilliseconds} ms"
fi
exit 0
`;
}

/** Every script, keyed by file name, as the scripts ConfigMap holds them. */
export function renderScripts(m: SentinelRedisModel): Record<string, string> {
  const files: Record<string, string> = {
    'common.sh': renderCommonSh(m),
    'redis-entrypoint.sh': renderRedisEntrypoint(m),
    'redis-probe.sh': renderRedisProbe(m),
    'redis-prestop.sh': renderRedisPreStop(m),
    'members.sh': renderMembersSh(m),
  };
  // Development mode runs no sentinels: their scripts are not shipped.
  if (m.sentinels > 0) {
    files['sentinel-entrypoint.sh'] = renderSentinelEntrypoint(m);
    files['sentinel-probe.sh'] = renderSentinelProbe(m);
    files['sentinel-prestop.sh'] = renderSentinelPreStop(m);
  }
  return files;
}
