#!/bin/sh
# kwizard NAT watcher: runs on every NAT instance of a cluster and keeps each private subnet's default
# route on a working NAT instance.
#
# Each round it reads the cluster's NAT instances and private route tables (two describe calls), checks
# the NAT instance of every other AZ (its EC2 state, then a probe: ICMP by default), and
#   - after NATWATCH_THRESHOLD failed checks in a row, points that AZ's 0.0.0.0/0 route at this instance,
#     unless another running NAT instance already carries it;
#   - after NATWATCH_THRESHOLD good checks in a row, gives a route it carries back to that AZ's NAT;
#   - points its own AZ's route at itself when it is missing or leads to an instance that is not running.
# It only ever describes instances and route tables and replaces or creates routes: it never stops,
# starts, reboots or terminates an instance. AWS API errors do not count against a peer: the round is
# skipped and the next one waits twice as long (up to NATWATCH_MAX_BACKOFF seconds).
#
# Settings (environment; kwizard's user data writes them to /etc/default/kwizard-natwatch):
#   NATWATCH_CLUSTER, NATWATCH_REGION, NATWATCH_AZ   required
#   NATWATCH_INTERVAL (5 s), NATWATCH_THRESHOLD (3), NATWATCH_MAX_BACKOFF (300 s)
#   NATWATCH_ENDPOINT_URL   another EC2 endpoint (a VPC endpoint, or a test server)
#   NATWATCH_INSTANCE_ID    this instance's id (default: asked from the instance metadata service)
#   NATWATCH_PROBE          shell snippet that checks a peer, its private address as $1 (default: ping)
#   NATWATCH_PROBE_TIMEOUT  seconds a probe may take (20)
#   NATWATCH_SLEEP          shell snippet that waits $1 seconds between rounds (default: sleep)
#   NATWATCH_MAX_ROUNDS     stop after this many rounds (0: run until stopped)
#   NATWATCH_SYSLOG=1       also send every line to syslog (logger); lines always go to stdout

set -u
# Words from AWS are split on purpose below; they must never be expanded as file names.
set -f

cluster=${NATWATCH_CLUSTER:?NATWATCH_CLUSTER is not set}
region=${NATWATCH_REGION:?NATWATCH_REGION is not set}
own_az=${NATWATCH_AZ:?NATWATCH_AZ is not set}
interval=${NATWATCH_INTERVAL:-5}
threshold=${NATWATCH_THRESHOLD:-3}
max_backoff=${NATWATCH_MAX_BACKOFF:-300}
max_rounds=${NATWATCH_MAX_ROUNDS:-0}
probe_timeout=${NATWATCH_PROBE_TIMEOUT:-20}
# Shell snippets run with `sh -c`: their $1 is expanded there, not here.
# shellcheck disable=SC2016
probe=${NATWATCH_PROBE:-'ping -c 3 -W 2 -q "$1" >/dev/null 2>&1'}
# shellcheck disable=SC2016
clock=${NATWATCH_SLEEP:-'sleep "$1"'}

# The CLI's own retries come first (standard mode backs off on throttling); ours wrap them.
AWS_RETRY_MODE=${AWS_RETRY_MODE:-standard}
AWS_MAX_ATTEMPTS=${AWS_MAX_ATTEMPTS:-3}
export AWS_RETRY_MODE AWS_MAX_ATTEMPTS

log() {
	printf '%s kwizard-natwatch[%s]: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$own_az" "$*"
	if [ "${NATWATCH_SYSLOG:-0}" = 1 ]; then
		logger -t kwizard-natwatch -- "$*" 2>/dev/null || true
	fi
}

is_count() {
	case $1 in '' | *[!0-9]*) return 1 ;; esac
	[ "$1" -ge 1 ]
}

for setting in "interval=$interval" "threshold=$threshold" "max_backoff=$max_backoff" \
	"probe_timeout=$probe_timeout"; do
	if ! is_count "${setting#*=}"; then
		log "setting ${setting%%=*} must be a whole number of at least 1, not '${setting#*=}'"
		exit 2
	fi
done
case $max_rounds in '' | *[!0-9]*)
	log "NATWATCH_MAX_ROUNDS must be a whole number, not '$max_rounds'"
	exit 2
	;;
esac

# Values from AWS are checked before they name a file or reach a command line.
plain_az() { case $1 in '' | *[!a-z0-9-]*) return 1 ;; esac; }
plain_id() { case $1 in i-[0-9a-f]*) case $1 in *[!a-z0-9-]*) return 1 ;; esac ;; *) return 1 ;; esac; }
plain_ip() { case $1 in '' | *[!0-9.]*) return 1 ;; esac; }

for setting in "NATWATCH_CLUSTER=$cluster" "NATWATCH_REGION=$region" "NATWATCH_AZ=$own_az"; do
	if ! plain_az "${setting#*=}"; then
		log "setting ${setting%%=*} may hold only lower-case letters, digits and '-', not '${setting#*=}'"
		exit 2
	fi
done

state=$(mktemp -d "${TMPDIR:-/tmp}/kwizard-natwatch.XXXXXX") || exit 1
trap 'rm -rf "$state"' EXIT
trap 'log "stopping"; exit 0' TERM INT HUP

count() { cat "$state/$1" 2>/dev/null || echo 0; }
set_count() { echo "$2" >"$state/$1"; }

pause() { sh -c "$clock" natwatch-clock "$1" || true; }

ec2() {
	set -- --region "$region" --output text --cli-connect-timeout 5 --cli-read-timeout 20 ec2 "$@"
	if [ -n "${NATWATCH_ENDPOINT_URL:-}" ]; then
		set -- --endpoint-url "$NATWATCH_ENDPOINT_URL" "$@"
	fi
	aws "$@" 2>"$state/aws-error"
}

api_failed() {
	log "AWS API call $1 failed: $(tail -n 1 "$state/aws-error" 2>/dev/null)"
}

own_instance_id() {
	if [ -n "${NATWATCH_INSTANCE_ID:-}" ]; then
		printf '%s\n' "$NATWATCH_INSTANCE_ID"
		return 0
	fi
	# IMDSv2: a session token first, then the id.
	token=$(curl -fsS --max-time 2 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' \
		http://169.254.169.254/latest/api/token 2>/dev/null) || return 1
	curl -fsS --max-time 2 -H "X-aws-ec2-metadata-token: $token" \
		http://169.254.169.254/latest/meta-data/instance-id 2>/dev/null
}

# The NAT instance tagged for AZ $1 as "id state address" (a running one first), or nothing.
nat_of_az() {
	printf '%s\n' "$nats" | awk -v az="$1" '
		$4 == az && $2 == "running" { print $1, $2, $3; found = 1; exit }
		$4 == az && first == "" { first = $1 " " $2 " " $3 }
		END { if (!found && first != "") print first }'
}

is_running_nat() {
	printf '%s\n' "$nats" | awk -v id="$1" '$1 == id && $2 == "running" { hit = 1 } END { exit !hit }'
}

# Points route table $1's default route at this instance ($2: the route's state, None when missing).
route_here() {
	if [ "$2" = None ]; then
		ec2 create-route --route-table-id "$1" --destination-cidr-block 0.0.0.0/0 \
			--instance-id "$self" >/dev/null || { api_failed create-route; return 1; }
	else
		ec2 replace-route --route-table-id "$1" --destination-cidr-block 0.0.0.0/0 \
			--instance-id "$self" >/dev/null || { api_failed replace-route; return 1; }
	fi
}

# Checks the NAT instance of AZ $1 once; prints why it failed, returns 0 when it is healthy.
check_peer() {
	peer=$(nat_of_az "$1")
	if [ -z "$peer" ]; then
		echo "no NAT instance is tagged for $1"
		return 1
	fi
	# shellcheck disable=SC2086 # id, state and address: three words on purpose
	set -- $peer
	if [ "$2" != running ]; then
		echo "$1 is $2"
		return 1
	fi
	if ! plain_ip "$3"; then
		echo "$1 has no private address"
		return 1
	fi
	if ! timeout "$probe_timeout" sh -c "$probe" natwatch-probe "$3"; then
		echo "$1 ($3) does not answer the probe"
		return 1
	fi
	return 0
}

# One route table: $1 id, $2 its AZ, $3 the default route's instance (None), $4 the route's state.
watch_table() {
	table=$1 az=$2 target=$3 route_state=$4
	if [ "$az" = "$own_az" ]; then
		if [ "$target" != "$self" ] && ! is_running_nat "$target"; then
			log "route table $table ($az): 0.0.0.0/0 leads to '$target', which is not a running NAT instance; taking it back"
			route_here "$table" "$route_state" || return 1
			log "route table $table ($az): 0.0.0.0/0 now goes through $self (this instance)"
		fi
		return 0
	fi
	if reason=$(check_peer "$az"); then
		set_count "fail.$az" 0
		good=$(($(count "good.$az") + 1))
		set_count "good.$az" "$good"
		if [ "$target" = "$self" ]; then
			if [ "$good" -lt "$threshold" ]; then
				log "the NAT instance of $az answers again ($good/$threshold)"
				return 0
			fi
			# shellcheck disable=SC2046 # id, state and address: three words on purpose
			set -- $(nat_of_az "$az")
			ec2 replace-route --route-table-id "$table" --destination-cidr-block 0.0.0.0/0 \
				--instance-id "$1" >/dev/null || { api_failed replace-route; return 1; }
			log "route table $table ($az): 0.0.0.0/0 given back to $1 after $good good checks"
		fi
		return 0
	fi
	set_count "good.$az" 0
	failed=$(($(count "fail.$az") + 1))
	set_count "fail.$az" "$failed"
	if [ "$failed" -le "$threshold" ]; then
		log "check $failed/$threshold of the NAT instance of $az failed: $reason"
	fi
	if [ "$failed" -lt "$threshold" ] || [ "$target" = "$self" ]; then
		return 0
	fi
	if [ "$target" != None ] && is_running_nat "$target" && [ "$target" != "$(nat_of_az "$az" | cut -d' ' -f1)" ]; then
		# Another healthy NAT instance took this AZ over already: two watchers must not fight over it.
		return 0
	fi
	route_here "$table" "$route_state" || return 1
	log "route table $table ($az): 0.0.0.0/0 moved from '$target' to $self (this instance) after $failed failed checks"
}

one_round() {
	if [ -z "${self:-}" ]; then
		self=$(own_instance_id) || self=""
		if ! plain_id "$self"; then
			log "cannot read this instance's id from the instance metadata service"
			self=""
			return 1
		fi
		log "watching the NAT instances of cluster $cluster in $region as $self (every ${interval}s, $threshold checks)"
	fi
	nats=$(ec2 describe-instances \
		--filters "Name=tag:kwizard:cluster,Values=$cluster" "Name=tag:kwizard:role,Values=nat" \
		"Name=instance-state-name,Values=pending,running,stopping,stopped,shutting-down" \
		--query "Reservations[].Instances[].[InstanceId,State.Name,PrivateIpAddress,Tags[?Key=='kwizard:az']|[0].Value]") ||
		{ api_failed describe-instances; return 1; }
	tables=$(ec2 describe-route-tables \
		--filters "Name=tag:kwizard:cluster,Values=$cluster" "Name=tag:kwizard:role,Values=private" \
		--query "RouteTables[].[RouteTableId,Tags[?Key=='kwizard:az']|[0].Value,Routes[?DestinationCidrBlock=='0.0.0.0/0']|[0].InstanceId,Routes[?DestinationCidrBlock=='0.0.0.0/0']|[0].State]") ||
		{ api_failed describe-route-tables; return 1; }
	ok=0
	while read -r table az target route_state; do
		case $table in rtb-*) ;; *) continue ;; esac
		if ! plain_az "$az"; then
			log "route table $table has no usable kwizard:az tag; skipped"
			continue
		fi
		# A default route through something else than an instance (a NAT gateway) counts as no NAT.
		plain_id "$target" || target=None
		watch_table "$table" "$az" "$target" "${route_state:-None}" || ok=1
	done <<EOF
$tables
EOF
	return $ok
}

backoff=$interval
round=0
while :; do
	round=$((round + 1))
	if one_round; then
		backoff=$interval
		wait_s=$interval
	else
		wait_s=$backoff
		log "retrying in ${wait_s}s"
		backoff=$((backoff * 2))
		[ "$backoff" -le "$max_backoff" ] || backoff=$max_backoff
	fi
	if [ "$max_rounds" -gt 0 ] && [ "$round" -ge "$max_rounds" ]; then
		log "stopping after $round rounds"
		break
	fi
	pause "$wait_s"
done
