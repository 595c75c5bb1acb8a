import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// Returns once the process that started this server has exited, so a server that a
/// supervisor started (`raftkv demo`) shuts down with it even when the supervisor was killed
/// outright and could not stop its children.
struct ParentWatch: Service {
    private let parent = getppid()

    func run() async {
        while getppid() == parent, !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: .milliseconds(200))
        }
    }
}
