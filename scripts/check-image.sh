#!/usr/bin/env bash
# Builds the Docker image with buildah (no Docker engine needed) and runs it against
# the local AWS: `pairs create`, `setup` and `serve` from the image, then two launches
# that must end with both pairs attached. As root on Debian, after `npm ci`:
#
#   apt-get install -y buildah debootstrap && scripts/check-image.sh
#
# Not part of `npm test`: it needs root, buildah, debootstrap, Debian's mirror and the
# npm registry, and takes a few minutes.
#
# node:24-slim cannot be pulled here, so the image is built on a stand-in: Debian
# bookworm (debootstrap, minbase), this checkout's Node 24 (node_modules/node) and the
# host's npm, a user `node` with uid 1000 as in node:24-slim, and the host's CA bundle
# for npm (a network behind a TLS-inspecting proxy needs it). A local image cannot carry
# the Dockerfile's pinned digest, so its FROM lines are rewritten to the stand-in;
# everything else is built as the Dockerfile says, from the context .dockerignore
# allows. `buildah run` shares the host's network, so the image reaches the local AWS
# on loopback; it does not make tini PID 1 (tini warns about it; Docker does).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
[[ $(id -u) == 0 ]] || missing+=('root')
command -v buildah >/dev/null || missing+=('buildah (apt-get install buildah)')
command -v debootstrap >/dev/null || missing+=('debootstrap (apt-get install debootstrap)')
[[ -x node_modules/node/bin/node ]] || missing+=('node_modules/node/bin/node (npm ci)')
if ((${#missing[@]})); then
  printf 'check-image: missing: %s\n' "${missing[@]}" >&2
  exit 2
fi

NODE=$PWD/node_modules/node/bin/node
NPM_DIR=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
B=(buildah --storage-driver vfs)
WORK=$(mktemp -d /tmp/pk-image-check.XXXXXX)
BASE=localhost/pairkeeper-check-base:node24
IMAGE=localhost/pairkeeper-check:latest
FAKE=http://127.0.0.1:4566
ADMIN=http://127.0.0.1:18081
fake_pid=''
containers=()

# On failure the logs stay in $WORK (the stand-in's root file system does not).
cleanup() {
  local status=$?
  pkill -TERM -f '^node --optimize-for-size src/cli.ts serve$' || true
  if [[ -n $fake_pid ]]; then kill "$fake_pid" 2>/dev/null || true; fi
  for c in "${containers[@]}"; do "${B[@]}" rm "$c" >/dev/null 2>&1 || true; done
  "${B[@]}" rmi -f "$IMAGE" "$BASE" >/dev/null 2>&1 || true
  rm -rf "$WORK/rootfs"
  if ((status == 0)); then rm -rf "$WORK"; else echo "check-image: the logs are in $WORK" >&2; fi
}
trap cleanup EXIT

step() { printf '\n== %s\n' "$*"; }
fail() { printf 'check-image: FAILED: %s\n' "$*" >&2; exit 1; }

step "stand-in for node:24-slim: Debian bookworm, Node $("$NODE" --version), npm $(npm --version)"
debootstrap --variant=minbase bookworm "$WORK/rootfs" http://deb.debian.org/debian >"$WORK/debootstrap.log" 2>&1 || fail "debootstrap (see $WORK/debootstrap.log)"
R=$WORK/rootfs
install -m 755 "$NODE" "$R/usr/local/bin/node"
mkdir -p "$R/usr/local/lib/node_modules" "$R/usr/local/etc"
cp -a "$NPM_DIR" "$R/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$R/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$R/usr/local/bin/npx"
chroot "$R" groupadd --gid 1000 node
chroot "$R" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
mkdir -p "$R/etc/ssl/certs" && cp /etc/ssl/certs/ca-certificates.crt "$R/etc/ssl/certs/ca-certificates.crt"
echo 'cafile=/etc/ssl/certs/ca-certificates.crt' >"$R/usr/local/etc/npmrc"
cp /etc/resolv.conf "$R/etc/resolv.conf"
base=$("${B[@]}" from scratch)
containers+=("$base")
cp -a "$R/." "$("${B[@]}" mount "$base")/"
"${B[@]}" umount "$base" >/dev/null
"${B[@]}" config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd node "$base"
"${B[@]}" commit --quiet "$base" "$BASE" >/dev/null

step "build: the Dockerfile, FROM the stand-in"
sed "s#^FROM node:24-slim@\${NODE_DIGEST}#FROM $BASE#" Dockerfile >"$WORK/Dockerfile"
grep -q "^FROM $BASE AS deps" "$WORK/Dockerfile" || fail "the Dockerfile's FROM lines are not 'FROM node:24-slim@\${NODE_DIGEST}' any more: update this script"
"${B[@]}" bud --quiet --isolation chroot --pull-never -f "$WORK/Dockerfile" -t "$IMAGE" . >"$WORK/build.log" 2>&1 || fail "build (see $WORK/build.log): $(tail -3 "$WORK/build.log")"
app=$("${B[@]}" from "$IMAGE")
containers+=("$app")
root=$("${B[@]}" mount "$app")
[[ -z $(find "$root/app" -path "$root/app/node_modules" -prune -o \( -name '*.test.ts' -o -name '*.pem' \) -print) ]] || fail 'tests or keys in the image'
[[ -n $(ls -A "$root/app/.compile-cache") ]] || fail 'the compile cache is empty'
[[ -f $root/app/src/aws/sdk/ec2.js ]] || fail 'src/aws/sdk is not in the image'
"${B[@]}" umount "$app" >/dev/null
echo "built: $("${B[@]}" images --format '{{.Size}}' "$IMAGE")"

step 'the local AWS: a subnet, a security group, a group'
"$NODE" fake-aws/cli.ts >"$WORK/fake-aws.log" 2>&1 &
fake_pid=$!
for _ in $(seq 50); do curl -sf "$FAKE/_fake/state" >/dev/null && break; sleep 0.2; done
field() { "$NODE" -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>console.log(JSON.parse(s)['$1']))"; }
subnet=$(curl -sf -XPOST "$FAKE/_fake/subnets" -d '{"availabilityZone":"us-east-1a"}' | field subnetId)
sg=$(curl -sf -XPOST "$FAKE/_fake/security-groups" -d '{"name":"etcd"}' | field groupId)
curl -sf -XPOST "$FAKE/_fake/groups" -d '{"name":"etcd","availabilityZones":["us-east-1a"],"minSize":0,"maxSize":2,"desiredCapacity":0}' >/dev/null

mkdir -p "$WORK/etc"
cp fake-aws/tls/ca.pem "$WORK/etc/ca.pem"
cat >"$WORK/etc/pairkeeper.yaml" <<'EOF'
aws: { region: us-east-1, pollIntervalMs: 100 }
listen: { host: 127.0.0.1, port: 18080 }
admin: { host: 127.0.0.1, port: 18081 }
sns: { topicArns: [arn:aws:sns:us-east-1:123456789012:pairkeeper-image], certHostPattern: '^localhost:\d+$' }
groups: [{ name: etcd, filters: Service=etcd }]
resync: { intervalSeconds: 5 }
EOF
chmod 755 "$WORK/etc" && chmod 644 "$WORK/etc/"*

# The image's entrypoint (node's flags as the Dockerfile gives them come with it), the config at /etc/pairkeeper.
in_image() {
  local env=(AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=AKIAFAKEFAKEFAKE AWS_SECRET_ACCESS_KEY=fake-secret NODE_EXTRA_CA_CERTS=/etc/pairkeeper/ca.pem)
  for s in EC2 SSM AUTO_SCALING SQS SNS; do env+=("AWS_ENDPOINT_URL_$s=$FAKE"); done
  local entrypoint
  read -ra entrypoint <<<"$("${B[@]}" inspect --type image --format '{{range .OCIv1.Config.Entrypoint}}{{.}} {{end}}' "$IMAGE")"
  "${B[@]}" run --isolation chroot --volume "$WORK/etc:/etc/pairkeeper:ro" "${env[@]/#/--env=}" "$app" -- \
    "${entrypoint[@]}" "$@" 2> >(grep -v -e '^\[WARN  tini' -e '^Zombie processes' -e '^To fix the problem' >&2)
}

step 'pairkeeper pairs create, from the image'
in_image pairs create --group etcd --count 2 --prefix image- --subnets "$subnet" --size 8 --security-groups "$sg" --apply | tail -4
step 'pairkeeper setup, from the image'
in_image setup --endpoint http://127.0.0.1:18080/sns --role-arn arn:aws:iam::123456789012:role/asg-notify --apply | tail -4

step 'pairkeeper serve, from the image; two launches'
in_image serve >"$WORK/serve.log" 2>&1 &
for _ in $(seq 60); do curl -sf "$ADMIN/readyz" >/dev/null && break; sleep 0.5; done
curl -sf "$ADMIN/readyz" >/dev/null || fail "serve never became ready: $(tail -5 "$WORK/serve.log")"
curl -sf -XPOST "$FAKE/_fake/groups/etcd/desired-capacity" -d '{"desiredCapacity":2}' >/dev/null
for _ in $(seq 60); do [[ $(curl -sf -H 'Accept: text/plain' "$ADMIN/v1/pairs" | grep -c ' attached ') == 2 ]] && break; sleep 0.5; done
curl -sf -H 'Accept: text/plain' "$ADMIN/v1/pairs"
[[ $(curl -sf -H 'Accept: text/plain' "$ADMIN/v1/pairs" | grep -c ' attached ') == 2 ]] || fail 'the two launches were not both paired'
serve_pid=$(pgrep -f '^node --optimize-for-size src/cli.ts serve$')
echo "serve: $(grep VmRSS "/proc/$serve_pid/status" | tr -s ' ')"
kill -TERM "$serve_pid"
for _ in $(seq 50); do kill -0 "$serve_pid" 2>/dev/null || break; sleep 0.2; done
kill -0 "$serve_pid" 2>/dev/null && fail 'serve did not stop on SIGTERM'
grep -q '"msg":"stopped"' "$WORK/serve.log" || fail "serve did not drain and stop: $(tail -3 "$WORK/serve.log")"

step 'OK: the image builds, runs pairs create, setup and serve, pairs two launches and stops on SIGTERM'
