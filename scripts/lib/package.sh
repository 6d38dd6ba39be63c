# Builds the Debian packages (debian/) the way a distribution does, for the package test layer. Source
# after common.sh.
#
#   package_build   dpkg-buildpackage -us -uc -b of a clean copy of the checkout, then lintian (an error
#                   fails); the .debs land in $NWG_PACKAGE_DIR. Skipped when the sources have not
#                   changed since the last build; a changed tree rebuilds through ccache.
#
# NWG_WERROR=ON (scripts/test) makes a compiler warning under Debian's flags fail the build; the
# packaging itself defaults to OFF, as a distribution build must.

NWG_PACKAGE_DIR=${NWG_PACKAGE_DIR:-$NWG_RUN/package}

# The files of the checkout, committed or not (not build/, not what .gitignore lists).
_package_files() {
  if git -C "$NWG_ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git -C "$NWG_ROOT" ls-files -z -co --exclude-standard | while IFS= read -r -d '' f; do
      [ -f "$NWG_ROOT/$f" ] && printf '%s\0' "$f"
    done
  else
    (cd "$NWG_ROOT" && find . -path ./build -prune -o -path ./.git -prune -o -type f -print0)
  fi
}

package_build() {
  local src=$NWG_PACKAGE_DIR/src/networking-wireguard key
  mkdir -p "$NWG_PACKAGE_DIR" "$NWG_RUN/log"
  key=$({ _package_files | (cd "$NWG_ROOT" && xargs -0 sha1sum); echo "werror=${NWG_WERROR:-OFF}"; } |
    sha1sum | cut -c1-16)
  if [ "$(cat "$NWG_PACKAGE_DIR/.built" 2>/dev/null)" = "$key" ] && ls "$NWG_PACKAGE_DIR"/*.deb >/dev/null 2>&1; then
    log "packages are up to date with the sources ($NWG_PACKAGE_DIR)"
    return 0
  fi
  rm -f "$NWG_PACKAGE_DIR"/*.deb "$NWG_PACKAGE_DIR"/*.changes "$NWG_PACKAGE_DIR"/*.buildinfo \
    "$NWG_PACKAGE_DIR/.built"
  # A fixed place for the copy: ccache then hits across rebuilds (the path is in the flags).
  rm -rf "$src" && mkdir -p "$src" || return 1
  _package_files | (cd "$NWG_ROOT" && tar --null -T - -cf -) | tar -xf - -C "$src" || return 1
  log "dpkg-buildpackage -us -uc -b (log: $NWG_RUN/log/dpkg-buildpackage.log)"
  # (CCACHE_DIR named here: debhelper 13 gives the build a HOME of its own, inside the copy)
  local launcher=()
  command -v ccache >/dev/null && launcher=(env PATH="/usr/lib/ccache:$PATH" CCACHE_BASEDIR="$src"
    CCACHE_DIR="$(ccache -k cache_dir)")
  (cd "$src" && "${launcher[@]}" NWG_WERROR="${NWG_WERROR:-OFF}" dpkg-buildpackage -us -uc -b \
     -j"${NWG_JOBS:-2}") >"$NWG_RUN/log/dpkg-buildpackage.log" 2>&1 ||
    { tail -40 "$NWG_RUN/log/dpkg-buildpackage.log" >&2; return 1; }
  # (the packages were built in the copy's parent: $NWG_PACKAGE_DIR/src)
  mv "$NWG_PACKAGE_DIR"/src/*.deb "$NWG_PACKAGE_DIR"/src/*.changes "$NWG_PACKAGE_DIR"/src/*.buildinfo \
    "$NWG_PACKAGE_DIR"/ || return 1
  log "lintian (log: $NWG_RUN/log/lintian.log)"
  lintian --fail-on error --pedantic --display-info "$NWG_PACKAGE_DIR"/*.changes \
    >"$NWG_RUN/log/lintian.log" 2>&1 || { cat "$NWG_RUN/log/lintian.log" >&2; return 1; }
  sed 's/^/  lintian: /' "$NWG_RUN/log/lintian.log" >&2
  echo "$key" >"$NWG_PACKAGE_DIR/.built"
}
