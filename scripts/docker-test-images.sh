#!/bin/sh
# Builds the local images the docker executor tests use; no registry is needed (or reachable).
#   gantry-test/busybox:1  (and :latest)  a busybox rootfs with sh, a `builder` user (uid 1000)
#   gantry-test/web:1                     the same rootfs serving /www on port 8080 (busybox httpd)
# Idempotent: an image that already exists is left alone (GANTRY_REBUILD_TEST_IMAGES=1 rebuilds).
# Needs: a running Docker engine and busybox-static (apt-get install -y busybox-static).
set -eu

BUSYBOX=${BUSYBOX:-$(command -v busybox || true)}
if [ -z "$BUSYBOX" ]; then
  echo "docker-test-images: busybox not found; apt-get install -y busybox-static" >&2
  exit 1
fi
if ! docker info >/dev/null 2>&1; then
  echo "docker-test-images: no Docker engine reachable (is dockerd running? DOCKER_HOST=${DOCKER_HOST:-unset})" >&2
  exit 1
fi

have() { [ -z "${GANTRY_REBUILD_TEST_IMAGES:-}" ] && docker image inspect "$1" >/dev/null 2>&1; }

if have gantry-test/busybox:1 && have gantry-test/busybox:latest && have gantry-test/web:1; then
  echo "docker-test-images: gantry-test/busybox:1, gantry-test/web:1 already present"
  exit 0
fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin" "$root/etc" "$root/tmp" "$root/root" \
  "$root/home/builder" "$root/www" "$root/proc" "$root/sys" "$root/dev"
chmod 1777 "$root/tmp"
cp "$BUSYBOX" "$root/bin/busybox"
# Links point at /bin/busybox inside the image (`busybox --install` would link to host paths).
for applet in $("$BUSYBOX" --list-full); do
  [ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done
cat > "$root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
builder:x:1000:1000:builder:/home/builder:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat > "$root/etc/group" <<'GROUP'
root:x:0:
builder:x:1000:
nogroup:x:65534:
GROUP
chown 1000:1000 "$root/home/builder"
echo "hello from gantry-test/web" > "$root/www/index.html"

tar -C "$root" -c . | docker import \
  --change 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["sh"]' \
  - gantry-test/busybox:1 >/dev/null
docker tag gantry-test/busybox:1 gantry-test/busybox:latest
tar -C "$root" -c . | docker import \
  --change 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'EXPOSE 8080' \
  --change 'CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]' \
  - gantry-test/web:1 >/dev/null
echo "docker-test-images: built gantry-test/busybox:1 (and :latest), gantry-test/web:1"
