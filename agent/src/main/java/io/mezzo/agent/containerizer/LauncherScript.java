package io.mezzo.agent.containerizer;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * The launcher every task runs under: a small POSIX sh script that leads the task's session, waits for
 * the agent's go-ahead, runs the command in the foreground and records its exit status in a file, so
 * that an agent restarted while the task ran still learns how it ended.
 *
 * <pre>
 *   agent --spawn--> setsid sh mezzo-launcher.sh STATUS WATCH USER -- COMMAND...   (session leader)
 *   agent: move the launcher into the cgroup, checkpoint its pid + start time, write "go"
 *   launcher: COMMAND in the foreground (as USER via setpriv), stdin /dev/null
 *             SIGTERM to the session reaches COMMAND; the launcher's trap waits for COMMAND to end
 *             exit status -> STATUS.tmp -> rename to STATUS; exit with the same status
 * </pre>
 *
 * <p>Signals still reach the task (it is in the launcher's process group; a caught signal is reset to
 * its default in the exec'd command) and a kill still kills the whole tree (the agent signals the
 * group, or the cgroup). With WATCH set, a background subshell reads the agent's end of a pipe and
 * stops the session when the agent dies: tasks of frameworks that do not checkpoint never outlive it.
 *
 * <p>The script is rewritten atomically (new file, rename) on every agent start, so a launcher still
 * running from an older agent keeps reading its own copy.
 *
 * <p>Stateless; any thread. Public only so that the agent's other packages can use it.
 */
public final class LauncherScript {

    /** The script's file name under {@code <work_dir>/bin}. */
    public static final String FILE_NAME = "mezzo-launcher.sh";

    /** Exit status of a launcher that never started its command (the agent went away first). */
    public static final int NOT_STARTED = 125;

    static final String SCRIPT = """
            #!/bin/sh
            # Mezzo task launcher, protocol 1. Written by the agent on every start; do not edit.
            #
            #   sh mezzo-launcher.sh STATUS_FILE WATCH USER -- COMMAND [ARG...]
            #
            # Leads the task's session (setsid). Waits for "go" on standard input (the agent sends it once
            # this process is isolated and checkpointed), runs COMMAND in the foreground and records its
            # exit status in STATUS_FILE (temporary file, then rename), then exits with that status.
            #   WATCH  "-": keep running when the agent dies (the framework checkpoints);
            #          N: when standard input ends (the agent died), SIGTERM the session, SIGKILL it N
            #          seconds later.
            #   USER   "-": the agent's user; UID:GID: switch to it (setpriv) for COMMAND.
            # SIGTERM reaches the whole session: COMMAND ends by it, and this shell outlives COMMAND to
            # record its status (a trapped signal's action runs once the foreground command has ended).
            trap 'terminated=1' TERM
            status_file=$1
            watch=$2
            user=$3
            if [ $# -lt 5 ] || [ "$4" != "--" ]; then
              echo "mezzo-launcher: usage: STATUS_FILE WATCH USER -- COMMAND [ARG...]" >&2
              exit 125
            fi
            shift 4
            go=
            IFS= read -r go
            if [ "$go" != go ]; then
              echo "mezzo-launcher: the agent went away before the command started" >&2
              exit 125
            fi
            if [ -n "$terminated" ]; then
              exit 143
            fi
            watcher=
            if [ "$watch" != - ]; then
              # An asynchronous list gets /dev/null as standard input before its own redirections, so the
              # agent's pipe is handed over as descriptor 3.
              exec 3<&0
              (
                trap '' TERM
                while IFS= read -r line <&3; do :; done
                echo "mezzo-launcher: the agent went away; stopping the task (its framework does not checkpoint)" >&2
                kill -TERM 0
                sleep "$watch"
                kill -KILL 0
              ) &
              watcher=$!
              exec 3<&-
            fi
            if [ "$user" = - ]; then
              "$@" </dev/null
            else
              setpriv --reuid="${user%%:*}" --regid="${user#*:}" --init-groups -- "$@" </dev/null
            fi
            status=$?
            if [ -n "$watcher" ]; then
              kill -KILL "$watcher" 2>/dev/null
            fi
            if printf '%s\\n' "$status" >"$status_file.tmp" && mv -f "$status_file.tmp" "$status_file"; then
              :
            else
              echo "mezzo-launcher: cannot record exit status $status in $status_file" >&2
            fi
            exit "$status"
            """;

    private LauncherScript() {}

    /**
     * Writes the script to {@code <workDir>/bin/mezzo-launcher.sh} atomically.
     *
     * @return the script's path
     */
    public static Path install(Path workDir) throws IOException {
        Path dir = workDir.resolve("bin");
        Files.createDirectories(dir);
        Path target = dir.resolve(FILE_NAME);
        Path temp = dir.resolve("." + FILE_NAME + ".tmp");
        try (FileChannel out = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            out.write(StandardCharsets.UTF_8.encode(SCRIPT));
            out.force(true);
        }
        try {
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
        }
        return target;
    }

    /**
     * The exit status a launcher recorded in {@code statusFile}, or -1 if there is none (the launcher
     * was killed, or never ran its command) or it is unreadable.
     */
    public static int readStatus(Path statusFile) {
        try {
            String text = Files.readString(statusFile, StandardCharsets.US_ASCII).trim();
            int status = Integer.parseInt(text);
            return status >= 0 && status <= 255 ? status : -1;
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }
}
