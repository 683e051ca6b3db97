#!/bin/sh
# One-shot `redis-cluster-init` of docker-compose.cluster.yml: joins the nodes
# in REDIS_CLUSTER_NODES (the services' own list, redis://host:port,...) into
# a Redis Cluster, three masters with one replica each, then waits until it
# serves every slot. A cluster that already has its slots (a second `up`) is
# left alone.
set -eu

nodes=$(echo "${REDIS_CLUSTER_NODES:?}" | tr ',' ' ' | sed 's#redis://##g')
first=${nodes%% *}
info() { redis-cli -h "${first%:*}" -p "${first##*:}" cluster info; }

if info | grep -q '^cluster_slots_assigned:16384'; then
  echo "cluster already created"
else
  # CLUSTER MEET takes IP addresses, not names: resolve the service names.
  addrs=''
  for node in $nodes; do
    ip=$(getent hosts "${node%:*}" | awk '{ print $1; exit }')
    if [ -z "$ip" ]; then
      echo "cannot resolve ${node%:*}" >&2
      exit 1
    fi
    addrs="$addrs $ip:${node##*:}"
  done
  # shellcheck disable=SC2086 # one argument per node
  redis-cli --cluster create $addrs --cluster-replicas 1 --cluster-yes
fi

tries=0
until info | grep -q '^cluster_state:ok'; do
  tries=$((tries + 1))
  if [ "$tries" -ge 60 ]; then
    echo "cluster not ok after 60 s" >&2
    exit 1
  fi
  sleep 1
done
echo "cluster ok"
