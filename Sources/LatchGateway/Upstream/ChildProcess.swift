import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A spawned child process with pipes on its stdin, stdout and stderr, in a process group of its
/// own (so signals reach whatever it started too).
///
/// The child gets exactly the environment given (nothing inherited), the three pipes as its
/// standard streams, default signal dispositions and an empty signal mask. Descriptors that Latch
/// opened without close-on-exec would be inherited too (Swift's stack opens them all with it).
struct ChildProcess: Sendable {
    let pid: pid_t
    /// The parent's ends: write to the child's stdin, read its stdout and stderr.
    let stdin: Int32
    let stdout: Int32
    let stderr: Int32

    /// Spawns `executable` (a path, or a name looked up in the child's `PATH`).
    ///
    /// - Throws: a description of what failed (never the environment).
    static func spawn(executable: String, arguments: [String], environment: [String: String]) throws(SpawnFailure) -> ChildProcess {
        Self.ignoreSIGPIPE
        // One spawn at a time: a pipe made by one spawn must not leak into the child of another
        // before it is marked close-on-exec.
        return try Self.spawning.withLock { _ throws(SpawnFailure) in
            try Self.spawnLocked(executable: executable, arguments: arguments, environment: environment)
        }
    }

    private static let spawning = Mutex(())

    private static func spawnLocked(executable: String, arguments: [String], environment: [String: String]) throws(SpawnFailure) -> ChildProcess {
        guard let path = Self.resolve(executable, path: environment["PATH"]) else {
            throw SpawnFailure(description: "\(executable) not found or not executable")
        }
        var input: [Int32] = [-1, -1]
        var output: [Int32] = [-1, -1]
        var errors: [Int32] = [-1, -1]
        guard Self.makePipe(&input), Self.makePipe(&output) else {
            let reason = String(cString: strerror(errno))
            for fd in input + output where fd >= 0 { close(fd) }
            throw SpawnFailure(description: "pipe: \(reason)")
        }
        guard Self.makePipe(&errors) else {
            let reason = String(cString: strerror(errno))
            for fd in input + output where fd >= 0 { close(fd) }
            throw SpawnFailure(description: "pipe: \(reason)")
        }

        #if canImport(Darwin)
        var actions: posix_spawn_file_actions_t?
        var attributes: posix_spawnattr_t?
        #else
        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        #endif
        posix_spawn_file_actions_init(&actions)
        posix_spawnattr_init(&attributes)
        defer {
            posix_spawn_file_actions_destroy(&actions)
            posix_spawnattr_destroy(&attributes)
        }
        // The pipes were made close-on-exec; dup2 onto 0, 1, 2 clears that flag for the child's copies.
        posix_spawn_file_actions_adddup2(&actions, input[0], 0)
        posix_spawn_file_actions_adddup2(&actions, output[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errors[1], 2)
        #if os(Linux)
        // Nothing else crosses into the child: descriptors other code opened without
        // close-on-exec (the store's files, listening sockets, a library's) would otherwise be
        // inherited by every upstream. (Darwin gets the same from CLOEXEC_DEFAULT.)
        if let closeFrom = Self.addCloseFrom { _ = closeFrom(&actions, 3) }
        #endif
        var flags = Int32(POSIX_SPAWN_SETPGROUP) | Int32(POSIX_SPAWN_SETSIGDEF) | Int32(POSIX_SPAWN_SETSIGMASK)
        #if canImport(Darwin)
        flags |= Int32(POSIX_SPAWN_CLOEXEC_DEFAULT)
        #endif
        posix_spawnattr_setflags(&attributes, Int16(truncatingIfNeeded: flags))
        posix_spawnattr_setpgroup(&attributes, 0)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)

        let argv = ([path] + arguments).map { strdup($0) }
        let envp = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") }
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let status = (argv + [nil]).withUnsafeBufferPointer { argvBuffer in
            (envp + [nil]).withUnsafeBufferPointer { envpBuffer in
                guard let argvBase = argvBuffer.baseAddress, let envpBase = envpBuffer.baseAddress else { return EINVAL }
                return posix_spawn(&pid, path, &actions, &attributes, argvBase, envpBase)
            }
        }
        // The child's ends belong to the child now (or to nobody, if the spawn failed).
        close(input[0])
        close(output[1])
        close(errors[1])
        guard status == 0 else {
            close(input[1])
            close(output[0])
            close(errors[0])
            throw SpawnFailure(description: "posix_spawn \(path): \(String(cString: strerror(status)))")
        }
        return ChildProcess(pid: pid, stdin: input[1], stdout: output[0], stderr: errors[0])
    }

    /// Sends a signal to the child's whole process group.
    func signalGroup(_ signal: Int32) {
        _ = kill(-self.pid, signal)
    }

    /// Blocks until the child has exited, without reaping it (its pid stays reserved).
    func waitUntilExited() {
        var info = siginfo_t()
        while waitid(P_PID, id_t(self.pid), &info, WEXITED | WNOWAIT) < 0, errno == EINTR {}
    }

    /// Reaps the exited child; returns how it ended ("status 3", "signal 9").
    func reap() -> String {
        var status: Int32 = 0
        while waitpid(self.pid, &status, 0) < 0 {
            guard errno == EINTR else { return "unknown status" }
        }
        let signal = status & 0x7F
        return signal == 0 ? "status \((status >> 8) & 0xFF)" : "signal \(signal)"
    }

    struct SpawnFailure: Error, CustomStringConvertible {
        let description: String
    }

    #if os(Linux)
    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+), looked up at run time: Swift's
    /// Glibc module does not declare it. Nil on an older C library, where the child inherits what
    /// was opened without close-on-exec.
    private static let addCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()
    #endif

    /// Writing to a pipe whose reader died must fail with EPIPE, not kill Latch.
    private static let ignoreSIGPIPE: Void = {
        _ = signal(SIGPIPE, SIG_IGN)
    }()

    private static func makePipe(_ fds: inout [Int32]) -> Bool {
        guard pipe(&fds) == 0 else { return false }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return true
    }

    /// An absolute or relative path as is; a bare name searched in `path` (the child's PATH).
    static func resolve(_ executable: String, path: String?) -> String? {
        if executable.contains("/") {
            return access(executable, X_OK) == 0 ? executable : nil
        }
        for directory in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/\(executable)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }
}
