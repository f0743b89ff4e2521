#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// MySQL 9.7 for the sandbox, as files: Debian `sid`'s `mysql-server-core` and `mysql-client-core` and the
/// runtime libraries they need, unpacked into one directory and run through `sid`'s own dynamic loader (a
/// bookworm system's glibc is too old for them).
///
/// `migrate-cli sandbox install-mysql [--dir DIR]` runs ``installScript``. The sandbox looks for the result in
/// `$MYSQL_ROOT` (``rootVariable``), else in ``defaultDirectory``.
///
/// Layout of the directory:
/// - `bin/mysqld`, `bin/mysql`, `bin/mysqldump`, `bin/mysqlbinlog`, `bin/mysqladmin`: wrapper scripts (the
///   `mysqld` one adds `--basedir`, `--lc-messages-dir`, `--character-sets-dir` and `--plugin-dir` pointing into
///   the tree, after the caller's options so that `--defaults-file` can stay first);
/// - `root/`: the unpacked packages; `.installed`: the version, written last;
/// - `.apt/`: the private apt state (its own `sources.list`, lists and cache); the system's is never used or
///   changed.
public enum MySQLDistribution {
    /// The environment variable naming the installation directory.
    public static let rootVariable = "MYSQL_ROOT"

    /// The command that installs it.
    public static let installCommand = "migrate-cli sandbox install-mysql"

    /// `$XDG_CACHE_HOME/aurora-cutover/mysql-9.7`, or `$HOME/.cache/aurora-cutover/mysql-9.7`.
    public static var defaultDirectory: String {
        if let cache = environment("XDG_CACHE_HOME") { return "\(cache)/aurora-cutover/mysql-9.7" }
        let home = environment("HOME") ?? "/tmp"
        return "\(home)/.cache/aurora-cutover/mysql-9.7"
    }

    /// `$MYSQL_ROOT` when set and not empty, else ``defaultDirectory``.
    public static var configuredDirectory: String { environment(rootVariable) ?? defaultDirectory }

    /// An installation found on disk.
    public struct Installation: Sendable, Hashable {
        /// The installation directory.
        public var directory: String
        /// The `mysqld` wrapper.
        public var server: String { "\(directory)/bin/mysqld" }
        /// The `mysql` client wrapper.
        public var client: String { "\(directory)/bin/mysql" }
        /// The version line `mysqld --version` gave at install time (`9.7.4-2 for Linux on x86_64 ...`).
        public var version: String
    }

    /// Finds the installation in `directory` (default: ``configuredDirectory``).
    ///
    /// - Throws: ``SandboxError`` (``SandboxError/Code/serverBinariesMissing``) saying how to install it.
    public static func locate(directory: String? = nil) throws -> Installation {
        let directory = directory ?? configuredDirectory
        let marker = SandboxFiles.read("\(directory)/.installed")
        guard let marker, access("\(directory)/bin/mysqld", X_OK) == 0 else {
            let origin = environment(rootVariable) != nil ? "$\(rootVariable)" : "the default location"
            throw SandboxError(
                code: .serverBinariesMissing,
                message: "MySQL is not installed in \(directory) (\(origin)); install it with `\(installCommand)`"
                    + " (about 56 MB from Debian's sid suite, no system change), or set \(rootVariable) to an"
                    + " installation directory"
            )
        }
        return Installation(directory: directory, version: marker.trimmingSpaces())
    }

    private static func environment(_ name: String) -> String? {
        guard let value = getenv(name).map({ String(cString: $0) }), !value.isEmpty else { return nil }
        return value
    }

    /// The installer, a bash script taking the directory as `$1`. Idempotent: an installed directory is left as it
    /// is (`--force`-like reinstall: remove `DIR/.installed`). It says what it downloads. apt runs with a private
    /// `sources.list`, lists, cache and status file (`-o Dir::...`), and a private configuration file (`-c`) that
    /// clears the system's `Update::Post-Invoke*` and `DPkg::*-Invoke` hooks for these calls; packages are
    /// fetched with `apt-get download` and unpacked with `dpkg-deb -x` (never `dpkg -i`). Environment:
    /// `MYSQL_INSTALL_MIRROR` (default `http://deb.debian.org/debian`), `MYSQL_INSTALL_SUITE` (default `sid`).
    public static let installScript = #"""
        set -euo pipefail
        dir="$1"
        suite="${MYSQL_INSTALL_SUITE:-sid}"
        mirror="${MYSQL_INSTALL_MIRROR:-http://deb.debian.org/debian}"
        packages=(mysql-server-core mysql-client-core)
        # Dependencies that files run in place do not need (the interpreters of maintainer scripts).
        exclude='^(perl|perl-base|perl-modules-.*|libperl.*|debconf|dpkg|init-system-helpers|adduser|passwd)$'

        if [ -f "$dir/.installed" ] && [ -x "$dir/bin/mysqld" ]; then
            echo "install-mysql: already installed in $dir: $(cat "$dir/.installed")"
            exit 0
        fi
        for tool in apt-get apt-cache dpkg-deb dpkg awk; do
            command -v "$tool" >/dev/null || { echo "install-mysql: needs $tool (a Debian-based system)" >&2; exit 1; }
        done
        arch="$(dpkg --print-architecture)"
        case "$arch" in
            amd64) triplet=x86_64-linux-gnu; loader=ld-linux-x86-64.so.2 ;;
            arm64) triplet=aarch64-linux-gnu; loader=ld-linux-aarch64.so.1 ;;
            *) echo "install-mysql: unsupported architecture $arch" >&2; exit 1 ;;
        esac

        mkdir -p "$dir"
        dir="$(cd "$dir" && pwd)"
        state="$dir/.apt"
        mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$state/etc" "$state/debs"
        : > "$state/status"
        echo "deb $mirror $suite main" > "$state/etc/sources.list"
        # Read after the system's configuration: the system's hooks do not run for these private calls.
        cat > "$state/etc/apt.conf" <<'CONF'
        #clear APT::Update::Pre-Invoke;
        #clear APT::Update::Post-Invoke;
        #clear APT::Update::Post-Invoke-Success;
        #clear DPkg::Pre-Invoke;
        #clear DPkg::Post-Invoke;
        CONF
        apt_options=(
            -c "$state/etc/apt.conf"
            -o "Dir::Etc::sourcelist=$state/etc/sources.list"
            -o "Dir::Etc::sourceparts=-"
            -o "Dir::State::Lists=$state/lists"
            -o "Dir::State::status=$state/status"
            -o "Dir::Cache=$state/cache"
        )
        # Downloads run as the calling user (apt's _apt user may not reach DIR); not root: no system lock either.
        apt_options+=(-o "APT::Sandbox::User=$(id -un)")
        if [ "$(id -u)" != 0 ]; then apt_options+=(-o "Debug::NoLocking=1"); fi

        echo "install-mysql: reading the package index of $mirror $suite (about 11 MB) into $state"
        apt-get "${apt_options[@]}" -qq update

        # The closure: one recursive `apt-cache depends`, then a walk from the two packages that follows the first
        # alternative of each Depends/Pre-Depends (a virtual name resolved to its first provider), skipping $exclude.
        mapfile -t closure < <(apt-cache "${apt_options[@]}" depends --recurse --no-recommends --no-suggests \
            --no-conflicts --no-breaks --no-replaces --no-enhances "${packages[@]}" \
            | awk -v roots="${packages[*]}" -v exclude="$exclude" '
            /^[^ ]/ { package = $1; pending = 0; skip = 0; next }
            /^  [ |]?(Pre)?Depends:/ {
                alternative = ($1 ~ /^\|/); name = $2; sub(/:any$/, "", name); pending = 0
                if (skip) { skip = alternative; next }
                skip = alternative
                if (name ~ /^</) { pending = 1; next }
                edges[package] = edges[package] " " name; next
            }
            /^    / && pending { edges[package] = edges[package] " " $1; pending = 0; next }
            END {
                count = split(roots, queue, " "); head = 1
                while (head <= count) {
                    name = queue[head++]
                    if (name in seen) continue
                    seen[name] = 1
                    if (name ~ exclude) continue
                    print name
                    n = split(edges[name], targets, " ")
                    for (i = 1; i <= n; i++) if (!(targets[i] in seen)) queue[++count] = targets[i]
                }
            }')
        if ((${#closure[@]} < 3)); then echo "install-mysql: could not resolve the packages in $suite" >&2; exit 1; fi
        echo "install-mysql: downloading ${#closure[@]} packages (about 56 MB) from $mirror $suite: ${closure[*]}"
        (cd "$state/debs" && apt-get "${apt_options[@]}" -qq download "${closure[@]}")

        echo "install-mysql: unpacking into $dir/root (dpkg-deb -x; nothing is installed into the system)"
        root="$dir/root"
        rm -rf "$root.new" && mkdir -p "$root.new"
        for deb in "$state/debs"/*.deb; do dpkg-deb -x "$deb" "$root.new"; done
        rm -rf "$root" && mv "$root.new" "$root"

        mkdir -p "$dir/bin"
        libraries="$root/usr/lib/$triplet:$root/lib/$triplet"
        run="exec \"$root/usr/lib/$triplet/$loader\" --library-path \"$libraries\""
        write_wrapper() {
            printf '#!/bin/sh\n# %s of Debian %s'"'"'s MySQL, through its own loader and libraries (written by install-mysql).\n%s\n' \
                "$1" "$suite" "$2" > "$dir/bin/$1"
            chmod 755 "$dir/bin/$1"
        }
        # mysqld wants --defaults-file first: the tree's own directories go after the caller's options.
        write_wrapper mysqld "$run \"$root/usr/sbin/mysqld\" \"\$@\" --basedir=\"$root/usr\" --lc-messages-dir=\"$root/usr/share/mysql\" --character-sets-dir=\"$root/usr/share/mysql/charsets\" --plugin-dir=\"$root/usr/lib/mysql/plugin\""
        for client in mysql mysqldump mysqlbinlog mysqladmin; do
            write_wrapper "$client" "$run \"$root/usr/bin/$client\" \"\$@\""
        done
        version="$("$dir/bin/mysqld" --no-defaults --version | sed 's/^.*Ver //')"
        rm -rf "$state/debs" "$state/cache"
        echo "$version" > "$dir/.installed"
        echo "install-mysql: installed MySQL $version in $dir"
        """#
}
