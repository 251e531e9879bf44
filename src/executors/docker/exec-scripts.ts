/**
 * Docker has no "kill this exec" call, and an exec's output stream stays open as long as any
 * process it started holds stdout (`sleep 100 &`). So every script runs under a small
 * wrapper: the script's processes carry a marker variable, and when the script's shell exits
 * (or a timeout hits) every process with that marker is killed by scanning `/proc`. That
 * reaches double-forked and `setsid` children too, and needs only `sh`, `tr` and `grep`,
 * which every image that can run a shell script has.
 */
export const MARKER_VAR = "GANTRY_EXEC_ID";

/** Shell function: kill -9 every process whose environment holds `MARKER_VAR=$1`. */
const KILL_FN =
  `gantry_kill() { for gantry_d in /proc/[0-9]*; do ` +
  `[ "\${gantry_d#/proc/}" = "$$" ] && continue; ` +
  `if tr '\\0' '\\n' 2>/dev/null < "$gantry_d/environ" | grep -qx "${MARKER_VAR}=$1"; then kill -9 "\${gantry_d#/proc/}" 2>/dev/null; fi; ` +
  `done; }`;

/**
 * `sh -c WRAPPER gantry <script-or-file> <id> <mode>`: runs the script marked with the id,
 * then kills what it left behind and exits with its status. `mode` is `inline` (the script
 * text is `$1`) or `file` (`$1` is a path to the script, for scripts too big for argv).
 */
export const WRAPPER =
  `${KILL_FN}\n` +
  // The wrapper's own messages ("Killed" for a killed job) are not the script's output.
  `exec 3>&2 2>/dev/null\n` +
  `if [ "$3" = file ]; then ${MARKER_VAR}="$2" sh "$1" 2>&3 3>&- & else ${MARKER_VAR}="$2" sh -c "$1" 2>&3 3>&- & fi\n` +
  `gantry_pid=$!\n` +
  `wait "$gantry_pid"; gantry_rc=$?\n` +
  `gantry_kill "$2"; gantry_kill "$2"\n` +
  `exit "$gantry_rc"\n`;

/** `sh -c KILLER gantry <id>`: kills a running exec's whole process tree (run as the same user). */
export const KILLER = `${KILL_FN}\ngantry_kill "$1"; gantry_kill "$1"\n`;

/** Scripts larger than this go through a file: Linux limits one argv string to 128 KiB. */
export const MAX_INLINE_SCRIPT = 100 * 1024;
