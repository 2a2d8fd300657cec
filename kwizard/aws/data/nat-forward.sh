#!/bin/sh
# kwizard NAT forwarding: this host forwards the VPC's packets and sends those bound outside the VPC
# with its own address. Run at every boot (the rules live in the kernel only) and safe to run again.
# EC2 delivers those packets only when the instance's source/destination check is off.
set -eu

vpc_cidr=${1:?usage: kwizard-nat-forward VPC_CIDR}

sysctl -q -w net.ipv4.ip_forward=1

# Each rule is added once: -C tells whether it is there already.
ensure() {
	table=$1 chain=$2
	shift 2
	if ! iptables -t "$table" -C "$chain" "$@" 2>/dev/null; then
		iptables -t "$table" -A "$chain" "$@"
	fi
}

ensure nat POSTROUTING -s "$vpc_cidr" ! -d "$vpc_cidr" -j MASQUERADE
# A FORWARD policy of DROP (set by some images and tools) would swallow the VPC's traffic.
ensure filter FORWARD -s "$vpc_cidr" -j ACCEPT
ensure filter FORWARD -d "$vpc_cidr" -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
