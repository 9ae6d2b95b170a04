import { PATHS, PATH_SHELL_CONSTANTS } from '../redis/paths';
import { renderDataProbe, SH_AUTH_CONF_LINES, SH_CONF_QUOTE, SH_LOG, SH_PASSWORD, SH_RCLI, SH_ROLE_OF, shellConstants } from '../redis/shell';
import { NODES_CONF } from './cluster-conf';
import { RESTORE_DISCARD_LINE, RESTORE_LOAD_LINE } from '../backup/backup-scripts';
import { ShardedRedisClusterModel, shardStatefulSetName, slotRanges } from './model';

/** How long a member waits, in total, at boot for its peers' names to resolve before it starts (the repair loop MEETs the rest). */
export const PEER_DNS_WAIT_SECONDS = 10;
/** How often the repair loop beside each member looks at the cluster bus, in seconds. */
export const REPAIR_PERIOD_SECONDS = 2;

/** The scripts the members read (layout.sh and the bootstrap aside: scaling out restarts no member). */
export const MEMBER_SCRIPTS = ['common.sh', 'member-entrypoint.sh', 'member-repair.sh', 'member-probe.sh', 'member-prestop.sh'] as const;
/** The config files the members read. */
export const MEMBER_CONFIG_FILES = ['redis.conf', 'acl-rules'] as const;

/**
 * layout.sh: shards, replicas per shard and the slot range of each shard at creation. Read by the
 * bootstrap only, so adding a shard restarts no member.
 */
export function renderLayoutSh(m: ShardedRedisClusterModel): string {
  return `# layout.sh for ${m.namespace}/${m.name}, rendered by redis-topologies. Sourced, not run.
SHARDS=${m.shards}
REPLICAS=${m.replicasPerShard}
# Slot range of each shard when the cluster is created, in shard order (redis-cli's even split).
SLOT_RANGES='${slotRanges(m.shards).map((r) => `${r.first}-${r.last}`).join(' ')}'
`;
}

/** common.sh: the cluster's constants and the helpers every member script and the bootstrap use. */
export function renderClusterCommonSh(m: ShardedRedisClusterModel): string {
  const constants: Record<string, string | number> = {
    NAME: m.name,
    NAMESPACE: m.namespace,
    CLUSTER_DOMAIN: m.clusterDomain,
    HEADLESS: m.headlessService,
    SHARD_PREFIX: `${shardStatefulSetName(m.name, 0).slice(0, -1)}`,
    REDIS_PORT: m.redisPort,
    BUS_PORT: m.busPort,
    ...PATH_SHELL_CONSTANTS,
    NODES_CONF,
    HOSTS_MAP: `${PATHS.data}/cluster-hosts`,
    TLS: m.tls ? 1 : 0,
    BOOT_TIMEOUT: m.bootTimeoutSeconds,
    HANDOVER_SECONDS: m.handoverSeconds,
  };
  return `# common.sh for the cluster ${m.namespace}/${m.name}, rendered by redis-topologies. Sourced, not run.
${shellConstants(constants)}

: "\${POD_NAME:?POD_NAME must be set (fieldRef metadata.name)}"
# A member's pod is <name>-shard-<shard>-<ordinal> (the bootstrap's pod is named otherwise and uses neither).
ORDINAL="\${POD_NAME##*-}"
_rest="\${POD_NAME%-*}"
SHARD="\${_rest##*-}"

${SH_LOG}

${SH_PASSWORD}

${SH_CONF_QUOTE}

${SH_RCLI}

${SH_ROLE_OF}

# The stable DNS name of member $2 of shard $1.
member_host() { printf '%s%s-%s.%s.%s.svc.%s' "$SHARD_PREFIX" "$1" "$2" "$HEADLESS" "$NAMESPACE" "$CLUSTER_DOMAIN"; }

# The address HOST resolves to now; nothing when it does not resolve.
resolve() { getent hosts "$1" 2>/dev/null | awk 'NR == 1 { print $1 }'; }

# CLUSTER NODES of HOST, without carriage returns; nothing when it does not answer.
cluster_nodes() { rcli "$1" "$REDIS_PORT" CLUSTER NODES | tr -d '\\r'; }

# cluster_info HOST FIELD: one field of CLUSTER INFO.
cluster_info() { rcli "$1" "$REDIS_PORT" CLUSTER INFO | tr -d '\\r' | sed -n "s/^$2://p"; }

# replication HOST FIELD: one field of INFO replication.
replication() { rcli "$1" "$REDIS_PORT" INFO replication | tr -d '\\r' | sed -n "s/^$2://p"; }

# From CLUSTER NODES lines on stdin, "<id> <address> <port> <bus port> <hostname> <flags> <master id> <link> <slot fields>"
# per node, with the hostname from the line (Redis >= 7.0 gossips it) or, failing that, from the
# hosts map this member keeps on its data volume (see member-repair.sh); '-' when neither knows it.
parse_nodes() {
  awk -v map="$HOSTS_MAP" 'BEGIN { while ((getline l < map) > 0) { split(l, f, " "); known[f[1]] = f[2] } }
    NF >= 8 {
      host = "-"; addr = $2
      # Redis 7.0: ip:port@bus,hostname; 7.2 adds ,tls-port=N,shard-id=ID after the hostname.
      c = index(addr, ","); if (c > 0) { split(substr(addr, c + 1), h, ","); host = h[1]; addr = substr(addr, 1, c - 1) }
      if (host == "" || host ~ /=/) host = "-"
      if (host == "-" && ($1 in known)) host = known[$1]
      at = index(addr, "@"); bus = substr(addr, at + 1); addr = substr(addr, 1, at - 1)
      match(addr, /:[0-9]+$/); port = substr(addr, RSTART + 1); ip = substr(addr, 1, RSTART - 1)
      if (ip == "") ip = "-"
      slots = ""; for (k = 9; k <= NF; k++) slots = slots " " $k
      print $1, ip, port, bus, host, $3, $4, $8 slots
    }'
}
`;
}

/**
 * Member entrypoint. Before redis-server starts, the cluster bus is repaired: in nodes.conf (on
 * the data volume), this member's own address becomes the pod's, and every peer's address, keyed
 * by node id, becomes what the peer's stable DNS name resolves to now. That is what lets the same
 * cluster re-form when every pod was re-created at new addresses: servers refuse hostnames in
 * CLUSTER MEET (redis/redis#2410) and remember peers by address only. Peers that do not resolve
 * within PEER_DNS_WAIT_SECONDS (in total, not each) keep their old address; member-repair.sh, which
 * runs beside the server, MEETs them once they do.
 */
export function renderMemberEntrypoint(m: ShardedRedisClusterModel): string {
  if (m.mode === 'standalone') {
    return `#!/bin/sh
# Standalone shard entrypoint for ${m.namespace}/${m.name} (behind twemproxy), rendered by redis-topologies.
set -eu
. ${PATHS.scripts}/common.sh
RUNTIME="$RUN_DIR/redis.conf"
umask 077
{
  printf 'include %s/redis.conf\\n' "$CONFIG_DIR"
${SH_AUTH_CONF_LINES}
} > "$RUNTIME.tmp"
mv "$RUNTIME.tmp" "$RUNTIME"
${m.restore ? `# Created from a backup: a shard's first boot loads it before serving.
if [ "$ORDINAL" = 0 ] && [ ! -e "$DATA_DIR/appendonlydir" ] && [ ! -e "$DATA_DIR/dump.rdb" ]; then ${RESTORE_LOAD_LINE}; else ${RESTORE_DISCARD_LINE}; fi
` : ''}exec redis-server "$RUNTIME"
`;
  }
  return `#!/bin/sh
# Cluster member entrypoint for ${m.namespace}/${m.name}, rendered by redis-topologies.
set -eu
. ${PATHS.scripts}/common.sh
: "\${POD_IP:?POD_IP must be set (fieldRef status.podIP)}"
SELF=$(member_host "$SHARD" "$ORDINAL")
RUNTIME="$RUN_DIR/redis.conf"

# The runtime config: the base file, the announced name and address, and the secrets.
write_conf() {
  umask 077
  {
    printf 'include %s/redis.conf\\n' "$CONFIG_DIR"
    printf 'cluster-announce-hostname %s\\n' "$SELF"
    printf 'cluster-announce-ip %s\\n' "$POD_IP"
${SH_AUTH_CONF_LINES}
  } > "$RUNTIME.tmp"
  mv "$RUNTIME.tmp" "$RUNTIME"
}

# Rewrites the addresses in nodes.conf, keyed by node id (a sed of old to new addresses could chain
# when addresses are reused).
repair_nodes_conf() {
  if [ ! -s "$NODES_CONF" ]; then
    log "no nodes.conf yet: a new member, joined by the bootstrap"
    return 0
  fi
  peers="$RUN_DIR/peers"; found="$RUN_DIR/addresses"
  parse_nodes < "$NODES_CONF" | awk '$6 !~ /myself/ && $5 != "-" { print $1, $5 }' > "$peers"
  : > "$found"
  deadline=$(( $(date +%s) + ${PEER_DNS_WAIT_SECONDS} ))
  while :; do
    : > "$peers.next"
    while read -r id host; do
      ip=$(resolve "$host")
      if [ -n "$ip" ]; then printf '%s %s\\n' "$id" "$ip" >> "$found"; else printf '%s %s\\n' "$id" "$host" >> "$peers.next"; fi
    done < "$peers"
    mv "$peers.next" "$peers"
    [ -s "$peers" ] || break
    if [ "$(date +%s)" -ge "$deadline" ]; then
      log "not resolvable after ${PEER_DNS_WAIT_SECONDS}s, kept at their old address for now: $(awk '{ printf "%s ", $2 }' "$peers")"
      break
    fi
    sleep 1
  done
  awk -v self="$POD_IP" -v found="$found" -v port="$REDIS_PORT" -v bus="$BUS_PORT" '
    BEGIN { while ((getline l < found) > 0) { split(l, f, " "); addr[f[1]] = f[2] } }
    $1 == "vars" { print; next }
    {
      ip = ""
      if ($3 ~ /myself/) ip = self; else if ($1 in addr) ip = addr[$1]
      if (ip != "" && match($2, /:[0-9]+@[0-9]+/)) {
        # The ports are always ours (a peer whose address was taken by another is saved as :0@0, noaddr).
        $2 = ip ":" port "@" bus substr($2, RSTART + RLENGTH)
        gsub(/(^|,)noaddr/, "", $3); sub(/^,/, "", $3)
      }
      print
    }' "$NODES_CONF" > "$NODES_CONF.tmp"
  mv "$NODES_CONF.tmp" "$NODES_CONF"
  log "nodes.conf: this member at $POD_IP, $(wc -l < "$found") peers at their current addresses"
}

write_conf
${m.restore ? `# Created from a backup: member 0 of a new shard (no nodes.conf yet) loads it before it serves or
# joins; the server then claims the slots its keys are in, and the bootstrap adds the rest of its range.
if [ "$ORDINAL" = 0 ] && [ ! -s "$NODES_CONF" ]; then ${RESTORE_LOAD_LINE}; else ${RESTORE_DISCARD_LINE}; fi
` : ''}repair_nodes_conf
# The repair loop lives as long as the pod (its parent becomes redis-server).
sh "$SCRIPTS_DIR/member-repair.sh" &
exec redis-server "$RUNTIME"
`;
}

/**
 * member-repair.sh, beside every member's server. Every REPAIR_PERIOD_SECONDS it
 * - keeps a map of node id to hostname on the data volume, for a boot whose nodes.conf lacks them;
 * - sends one CLUSTER MEET to a peer that is failing or disconnected at an address its stable name
 *   no longer resolves to (a pod re-created after this member booted, or DNS late at boot). Never
 *   CLUSTER FORGET, which would ban that node id for 60 s;
 * - makes a replica whose replication link is down repoint to its primary's current address with
 *   CLUSTER REPLICATE: Redis 7.0 updates the address from gossip but not the replication link.
 */
export function renderMemberRepair(m: ShardedRedisClusterModel): string {
  return `#!/bin/sh
# Cluster bus repair loop for ${m.namespace}/${m.name}, rendered by redis-topologies.
. ${PATHS.scripts}/common.sh
while :; do
  sleep ${REPAIR_PERIOD_SECONDS}
  nodes=$(cluster_nodes 127.0.0.1) || continue
  [ -n "$nodes" ] || continue
  parsed=$(printf '%s\\n' "$nodes" | parse_nodes)

  map=$(printf '%s\\n' "$parsed" | awk '$5 != "-" { print $1, $5 }' | sort)
  if [ -n "$map" ] && [ "$map" != "$(cat "$HOSTS_MAP" 2>/dev/null)" ]; then
    printf '%s\\n' "$map" > "$HOSTS_MAP.tmp" && mv "$HOSTS_MAP.tmp" "$HOSTS_MAP"
  fi

  printf '%s\\n' "$parsed" | awk '$6 !~ /myself/ && $5 != "-" && ($6 ~ /fail/ || $6 ~ /noaddr/ || $8 == "disconnected") { print $1, $2, $5 }' |
    while read -r id ip host; do
      now=$(resolve "$host")
      [ -n "$now" ] && [ "$now" != "$ip" ] || continue
      # An address a connected node already has: that is the name's current node (a replaced id stays behind failing).
      if printf '%s\\n' "$parsed" | awk -v a="$now" '$2 == a && $8 == "connected" { found = 1 } END { exit !found }'; then continue; fi
      log "$host ($id) is at $now, not $ip: CLUSTER MEET $now"
      rcli 127.0.0.1 "$REDIS_PORT" CLUSTER MEET "$now" "$REDIS_PORT" "$BUS_PORT" >/dev/null || true
    done

  me=$(printf '%s\\n' "$parsed" | awk '$6 ~ /myself/')
  case "$me" in
    *slave*)
      primary=$(printf '%s' "$me" | awk '{ print $7 }')
      at=$(printf '%s\\n' "$parsed" | awk -v id="$primary" '$1 == id { print $2 }')
      if [ -n "$at" ] && [ "$at" != "-" ] && [ "$(replication 127.0.0.1 master_link_status)" != up ]; then
        linked=$(replication 127.0.0.1 master_host)
        if [ "$linked" != "$at" ]; then
          log "replication points at $linked, but primary $primary is at $at: CLUSTER REPLICATE"
          rcli 127.0.0.1 "$REDIS_PORT" CLUSTER REPLICATE "$primary" >/dev/null || true
        fi
      fi ;;
  esac
done
`;
}

/**
 * Member probes. `startup` and `liveness` pass when the server answers anything (also LOADING), so
 * a long load or sync never gets a pod killed; `readiness` passes when this member has joined the
 * cluster (knows a peer) and is a primary or a replica with its link up: local health only.
 */
export function renderMemberProbe(m: ShardedRedisClusterModel): string {
  // Local health only, for cluster members one that joined the cluster (knows a peer). The cluster's
  // own state is not asked: one shard down would make every member unready, and a PodDisruptionBudget
  // would then block the node drains that fix it.
  const readiness = m.mode === 'cluster'
    ? '    [ "$(cluster_info 127.0.0.1 cluster_known_nodes)" -gt 1 ] 2>/dev/null || exit 1'
    : '    # A standalone shard is ready when it answers as a primary.';
  return renderDataProbe({ title: `Cluster member probe for ${m.namespace}/${m.name}: member-probe.sh`, commonSh: `${PATHS.scripts}/common.sh`, readinessFirst: readiness });
}

/**
 * preStop hook: a primary that owns slots hands them to an in-sync replica before it stops
 * (rolling update, drain, eviction). It asks the replica for CLUSTER FAILOVER, which pauses writes
 * on this primary until the replica has every one, then promotes it with a new epoch; the hook
 * waits, at most HANDOVER_SECONDS, until this member reports itself a replica. Replicas, and a
 * primary without an online replica, stop at once.
 */
export function renderMemberPreStop(m: ShardedRedisClusterModel): string {
  if (m.mode === 'standalone') {
    return `#!/bin/sh
# Standalone shard preStop hook for ${m.namespace}/${m.name}: no replica to hand over to; twemproxy
# ejects the shard after its failure limit and sends its keys to the others until it is back.
exit 0
`;
  }
  return `#!/bin/sh
# Cluster member preStop hook for ${m.namespace}/${m.name}, rendered by redis-topologies.
. ${PATHS.scripts}/common.sh
info=$(rcli 127.0.0.1 "$REDIS_PORT" INFO replication | tr -d '\\r') || exit 0
case "$info" in *role:master*) ;; *) exit 0 ;; esac
slots=$(cluster_nodes 127.0.0.1 | parse_nodes | awk '$6 ~ /myself/ { print NF - 8 }')
[ "\${slots:-0}" -gt 0 ] || exit 0
# The online replica with the most of this primary's stream (highest offset).
replica=$(printf '%s\\n' "$info" | sed -n 's/^slave[0-9]*:ip=\\([^,]*\\),port=\\([0-9]*\\),state=online,offset=\\([0-9]*\\).*/\\3 \\1 \\2/p' | sort -n -r | head -n 1)
if [ -z "$replica" ]; then
  hook_log "handover: no online replica; this shard's slots are unavailable until this member is back"
  exit 0
fi
set -- $replica
started=$(date +%s)
asked=0
# A manual failover gives up after 5 s (an election lost to another shard's, all rolled at once):
# ask again every 6-8 s until this member is a replica or the handover time is spent.
while [ $(( $(date +%s) - started )) -lt "$HANDOVER_SECONDS" ]; do
  if [ "$(role_of 127.0.0.1)" = slave ]; then
    hook_log "handover: done in $(( $(date +%s) - started ))s, this member is now a replica"
    exit 0
  fi
  if [ $(( $(date +%s) - asked )) -ge $(( 6 + $(od -An -N1 -tu1 /dev/urandom) % 3 )) ]; then
    asked=$(date +%s)
    reply=$(rcli "$2" "$3" CLUSTER FAILOVER)
    hook_log "handover: asked replica $2 (offset $1) to take over this shard (CLUSTER FAILOVER): $reply"
  fi
  sleep 0.1
done
hook_log "handover: no promotion within \${HANDOVER_SECONDS}s; stopping (the cluster fails over after cluster-node-timeout)"
`;
}

/**
 * The bootstrap (a Job, re-run whenever the layout changes; idempotent). It
 * 1. waits until every member of the layout answers (never forms a partial cluster);
 * 2. on a new cluster, gives each shard's member 0 its own config epoch and its slot range;
 * 3. meets every member that does not know the cluster yet (addresses, since CLUSTER MEET refuses names);
 * 4. makes every other member of a shard a replica of that shard's primary (whichever member it
 *    is after failovers); a new shard's member 0 becomes its primary;
 * 5. after adding shards, moves slots to them (redis-cli --cluster rebalance --cluster-use-empty-masters);
 * 6. refuses a cluster whose slots are held by a node outside the layout (a scale-in not drained);
 * 7. declares the cluster formed only when every member reports cluster_state:ok and every
 *    replica master_link_status:up: a primary lost before its replica's first sync comes back empty.
 * On a formed cluster it changes nothing.
 */
export function renderBootstrap(m: ShardedRedisClusterModel): string {
  return `#!/bin/sh
# Cluster bootstrap for ${m.namespace}/${m.name}, rendered by redis-topologies. Idempotent.
set -eu
. ${PATHS.scripts}/common.sh
. "$SCRIPTS_DIR/layout.sh"
WORK="\${TMPDIR:-/tmp}/bootstrap"
mkdir -p "$WORK"
started=$(date +%s)
elapsed() { echo $(( $(date +%s) - started )); }
give_up() { log "$*"; exit 1; }
members() {
  _s=0
  while [ "$_s" -lt "$SHARDS" ]; do
    _i=0
    while [ "$_i" -le "$REPLICAS" ]; do printf '%s %s %s\\n' "$_s" "$_i" "$(member_host "$_s" "$_i")"; _i=$((_i + 1)); done
    _s=$((_s + 1))
  done
}
# wait_until WHAT COMMAND...: COMMAND succeeds, or the bootstrap gives up after BOOT_TIMEOUT.
wait_until() {
  _what=$1; shift
  until "$@"; do
    [ "$(elapsed)" -lt "$BOOT_TIMEOUT" ] || give_up "gave up after $(elapsed)s waiting for $_what"
    sleep 1
  done
}
# A node id, or nothing (an error reply such as LOADING is not an id).
node_id() { rcli "$1" "$REDIS_PORT" CLUSTER MYID | tr -d '\\r' | grep -E '^[0-9a-f]{40}$' || true; }
field() { awk -v s="$1" -v i="$2" -v k="$3" '$1 == s && $2 == i { print $k }' "$WORK/members"; }

# 1. Every member answers: "<shard> <ordinal> <host> <address> <node id>" per member.
every_member_answers() {
  : > "$WORK/members"; _missing=""
  members > "$WORK/layout"
  while read -r s i host; do
    ip=$(resolve "$host"); id=""
    if [ -n "$ip" ]; then id=$(node_id "$host"); fi
    if [ -n "$id" ]; then printf '%s %s %s %s %s\\n' "$s" "$i" "$host" "$ip" "$id" >> "$WORK/members"; else _missing="$_missing $host"; fi
  done < "$WORK/layout"
  [ -z "$_missing" ] && return 0
  log "waiting for:$_missing"
  return 1
}
wait_until "every member to answer" every_member_answers
TOTAL=$(wc -l < "$WORK/members")
log "all $TOTAL members answer"

# free_ranges A-B: from parse_nodes lines on stdin, the runs of slots A..B that no node owns.
free_ranges() {
  awk -v a="\${1%-*}" -v b="\${1#*-}" '
    BEGIN { a += 0; b += 0 }
    { for (k = 9; k <= NF; k++) { if ($k ~ /^\\[/) continue; n = split($k, r, "-"); lo = r[1] + 0; hi = (n > 1 ? r[2] : r[1]) + 0
        for (x = (lo > a ? lo : a); x <= (hi < b ? hi : b); x++) taken[x] = 1 } }
    END { start = -1; for (x = a; x <= b + 1; x++) { if (x <= b && !(x in taken)) { if (start < 0) start = x } else if (start >= 0) { print start "-" (x - 1); start = -1 } } }'
}
# add_free_slots SHARD HOST RANGE VIEW_HOST: HOST (the shard's member 0) takes the slots of its RANGE that
# no node owns as VIEW_HOST sees them: the whole range on a new cluster, the rest of it when the
# member was restored from a backup (its server claimed the slots its keys are in when it loaded them).
add_free_slots() {
  _free=$(cluster_nodes "$4" | parse_nodes | free_ranges "$3")
  [ -n "$_free" ] || return 0
  # One command for every free run (a restored shard's range has a gap wherever its keys left none).
  _args=""; _runs=0
  for _r in $_free; do _args="$_args \${_r%-*} \${_r#*-}"; _runs=$((_runs + 1)); done
  # shellcheck disable=SC2086
  reply=$(rcli "$2" "$REDIS_PORT" CLUSTER ADDSLOTSRANGE $_args | tr -d '\\r')
  [ "$reply" = OK ] || give_up "CLUSTER ADDSLOTSRANGE $_free on $2: $reply"
  if [ "$_runs" = 1 ]; then log "shard $1 ($2): slots $_free"; else log "shard $1 ($2): the free slots of $3, in $_runs runs"; fi
}

# 2. A new cluster (no member knows another): each shard's member 0 gets its own config epoch and
# the slots of its range it does not own yet.
fresh=1
while read -r s i host ip id; do
  [ "$(cluster_info "$host" cluster_known_nodes)" = 1 ] || fresh=0
done < "$WORK/members"
if [ "$fresh" = 1 ]; then
  log "a new cluster: slot ranges $SLOT_RANGES"
  s=0
  for range in $SLOT_RANGES; do
    host=$(field "$s" 0 3)
    rcli "$host" "$REDIS_PORT" CLUSTER SET-CONFIG-EPOCH $((s + 1)) >/dev/null || true
    add_free_slots "$s" "$host" "$range" "$host"
    s=$((s + 1))
  done
fi

# 3. Anchor: a member that owns slots. Every member that does not know it yet is met, at the
# address its name resolves to now (CLUSTER MEET refuses names).
anchor=""
while read -r s i host ip id; do
  if [ -z "$anchor" ] && [ "$(cluster_info "$host" cluster_slots_assigned)" != 0 ]; then anchor=$host; fi
done < "$WORK/members"
[ -n "$anchor" ] || give_up "no member owns a slot, yet they are not all new: look at CLUSTER NODES of every member"
anchor_id=$(node_id "$anchor")
while read -r s i host ip id; do
  if ! cluster_nodes "$host" | grep -q "^$anchor_id "; then
    ip=$(resolve "$host")
    log "meeting $host ($ip)"
    reply=$(rcli "$anchor" "$REDIS_PORT" CLUSTER MEET "$ip" "$REDIS_PORT" "$BUS_PORT" | tr -d '\\r')
    [ "$reply" = OK ] || give_up "CLUSTER MEET $ip from $anchor: $reply"
  fi
done < "$WORK/members"
knows_every_member() {
  while read -r s i host ip id; do
    _nodes=$(cluster_nodes "$host")
    for _id in $(awk '{ print $5 }' "$WORK/members"); do
      printf '%s\\n' "$_nodes" | grep -q "^$_id " || return 1
    done
  done < "$WORK/members"
}
wait_until "every member to know every other" knows_every_member
view() { cluster_nodes "$anchor" | parse_nodes; }

# 4. Node ids outside the layout: holding slots, they are a shard removed before its slots moved
# away (refused); failing without slots, they are members replaced with empty volumes, forgotten
# everywhere (only now: CLUSTER FORGET bans an id for 60 s).
ids=" $(awk '{ printf "%s ", $5 }' "$WORK/members")"
outside=$(view | awk -v ids="$ids" 'index(ids, " " $1 " ") == 0 && NF > 8 && $6 ~ /master/ && $6 !~ /fail/ { print $5 "(" $1 ")" }')
[ -z "$outside" ] || give_up "slots are held by nodes outside the layout: $outside. A shard is removed only after its slots are moved away (README: Scale-in)"
for gone in $(view | awk -v ids="$ids" 'index(ids, " " $1 " ") == 0 && NF == 8 && $6 ~ /fail|noaddr/ { print $1 }'); do
  log "forgetting $gone, a failed node outside the layout"
  while read -r s i host ip id; do rcli "$host" "$REDIS_PORT" CLUSTER FORGET "$gone" >/dev/null || true; done < "$WORK/members"
done

# 5. Slots no node owns (a first run stopped between two shards): each shard's member 0, if it is a
# primary that owns nothing outside its range, takes the free slots of its range.
if [ "$(cluster_info "$anchor" cluster_slots_assigned)" != 16384 ]; then
  s=0
  for range in $SLOT_RANGES; do
    host=$(field "$s" 0 3)
    outside=$(cluster_nodes "$host" | parse_nodes | awk -v a="\${range%-*}" -v b="\${range#*-}" '$6 ~ /myself/ { for (k = 9; k <= NF; k++) { if ($k ~ /^\\[/) continue; n = split($k, r, "-"); if (r[1] + 0 < a + 0 || (n > 1 ? r[2] : r[1]) + 0 > b + 0) print $k } }')
    if [ -z "$outside" ] && [ "$(role_of "$host")" = master ]; then add_free_slots "$s" "$host" "$range" "$anchor"; fi
    s=$((s + 1))
  done
fi

# 6. Each shard's primary as the anchor sees it (whichever member it is after failovers), and its
# other members as replicas of it; a shard owning nothing is new, its member 0 its primary.
new_shards=""
s=0
while [ "$s" -lt "$SHARDS" ]; do
  shard_ids=" $(awk -v s="$s" '$1 == s { printf "%s ", $5 }' "$WORK/members")"
  primary_id=$(view | awk -v ids="$shard_ids" 'index(ids, " " $1 " ") > 0 && NF > 8 && $6 ~ /master/ && $6 !~ /fail/ { print $1; exit }')
  if [ -z "$primary_id" ]; then
    primary_id=$(field "$s" 0 5)
    [ "$(role_of "$(field "$s" 0 3)")" = master ] || give_up "shard $s owns no slot and its member 0 is not a primary: look at CLUSTER NODES"
    new_shards="$new_shards $s"
    log "shard $s is new: $(field "$s" 0 3) is its primary"
  fi
  i=0
  while [ "$i" -le "$REPLICAS" ]; do
    host=$(field "$s" "$i" 3); id=$(field "$s" "$i" 5)
    if [ "$id" != "$primary_id" ]; then
      follows=$(cluster_nodes "$host" | parse_nodes | awk '$6 ~ /myself/ { print $7 }')
      if [ "$follows" != "$primary_id" ]; then
        log "$host joins shard $s as a replica of $primary_id"
        replicate() {
          _r=$(rcli "$host" "$REDIS_PORT" CLUSTER REPLICATE "$primary_id" | tr -d '\\r')
          case "$_r" in
            OK) return 0 ;;
            *empty*) give_up "$host cannot become a replica: $_r (it holds keys or slots; look at CLUSTER NODES)" ;;
          esac
          log "CLUSTER REPLICATE on $host: $_r; retrying"
          return 1
        }
        wait_until "$host to replicate $primary_id" replicate
      fi
    fi
    i=$((i + 1))
  done
  s=$((s + 1))
done

# 7. Slots: a move interrupted mid-way (a slot left migrating/importing) is finished first; then the
# primaries' shares are evened out (new shards get theirs). Nothing moves on a balanced cluster.
tls_args=""
if [ "$TLS" = 1 ]; then tls_args="--tls --cacert $TLS_DIR/ca.crt"; fi
cluster_cli() {
  # shellcheck disable=SC2086
  REDISCLI_AUTH="$(password)" redis-cli --no-auth-warning $tls_args --cluster "$@" 2>&1
}
sees_cluster_ok() {
  while read -r s i host ip id; do [ "$(cluster_info "$host" cluster_state)" = ok ] || return 1; done < "$WORK/members"
}
if [ "$fresh" = 0 ]; then
  if view | grep -q '\\['; then
    log "a slot is left migrating or importing: redis-cli --cluster fix"
    cluster_cli fix "$(resolve "$anchor"):$REDIS_PORT" --cluster-yes || give_up "redis-cli --cluster fix failed; look at CLUSTER NODES"
  fi
  # A member that does not see every slot served refuses keys moved to it (CLUSTERDOWN).
  wait_until "every member to see the cluster ok" sees_cluster_ok
  out=$(cluster_cli rebalance "$(resolve "$anchor"):$REDIS_PORT" --cluster-use-empty-masters) || give_up "redis-cli --cluster rebalance failed; re-running the bootstrap resumes it: $out"
  if printf '%s' "$out" | grep -q '^Moving'; then
    log "moved slots to even the shards out:$new_shards"
    printf '%s\\n' "$out" | grep '^Moving' >&2
  fi
fi

# 8. Formed: every member sees the cluster ok, every replica is in sync with its primary, and every
# member's view agrees on the roles (gossip spreads a new replica's role a moment after it took it).
formed() {
  while read -r s i host ip id; do
    _view=$(cluster_nodes "$host" | parse_nodes)
    [ "$(printf '%s\\n' "$_view" | awk '$6 ~ /slave/ && $6 !~ /fail/' | wc -l)" -eq $((SHARDS * REPLICAS)) ] || return 1
    [ "$(printf '%s\\n' "$_view" | awk '$6 ~ /master/ && $6 !~ /fail/ && NF > 8' | wc -l)" -eq "$SHARDS" ] || return 1
  done < "$WORK/members"
  while read -r s i host ip id; do
    [ "$(cluster_info "$host" cluster_state)" = ok ] || return 1
    [ "$(cluster_info "$host" cluster_slots_assigned)" = 16384 ] || return 1
    case "$(role_of "$host")" in
      master) ;;
      slave) [ "$(replication "$host" master_link_status)" = up ] || return 1 ;;
      *) return 1 ;;
    esac
  done < "$WORK/members"
}
wait_until "cluster_state:ok on every member and every replica in sync" formed
log "cluster formed: $SHARDS shards, $REPLICAS replica(s) each, 16384 slots, every replica in sync"
`;
}

/** The scripts ConfigMap: common.sh, layout.sh, the member scripts and the bootstrap. */
export function renderClusterScripts(m: ShardedRedisClusterModel): Record<string, string> {
  const files: Record<string, string> = {
    'common.sh': renderClusterCommonSh(m),
    'member-entrypoint.sh': renderMemberEntrypoint(m),
    'member-probe.sh': renderMemberProbe(m),
    'member-prestop.sh': renderMemberPreStop(m),
  };
  // Standalone shards behind twemproxy have no cluster to form or repair.
  if (m.mode === 'cluster') {
    files['layout.sh'] = renderLayoutSh(m);
    files['member-repair.sh'] = renderMemberRepair(m);
    files['cluster-bootstrap.sh'] = renderBootstrap(m);
  }
  return files;
}
