/// Per-task field checks: everything about a task that does not involve another task.
extension SpecChecker {
    func checkTasks() {
        for (index, task) in spec.tasks.enumerated() {
            check(task, index: index)
        }
    }

    private func check(_ task: TaskSpec, index: Int) {
        if !decoded.unnamedTasks.contains(index), let problem = Self.labelProblem(task.name) {
            fail(taskPath(index).key(keys.taskName), problem)
        }
        if task.subWorkflow == nil { checkCommand(task.command, at: taskPath(index).key(keys.command)) }
        if let onTimeout = task.onTimeout {
            checkCommand(onTimeout, at: taskPath(index).key(keys.onTimeout))
        }
        checkNumber(task.timeoutSeconds, positive: false, at: taskPath(index).key(keys.timeout))
        if task.retries < 0 { fail(taskPath(index).key("retries"), SpecMessages.notNegative) }
        for (position, code) in task.retryExitCodes.enumerated() where !(0...255).contains(code) {
            fail(taskPath(index).key("retry_exit_codes").index(position), SpecMessages.exitCodeRange)
        }
        checkNumber(task.retryDelaySeconds, positive: false, at: taskPath(index).key("retry_delay_seconds"))
        checkNumber(task.retryMaxDelaySeconds, positive: true, at: taskPath(index).key("retry_max_delay_seconds"))
        if !task.env.isEmpty { checkEnv(task.env, at: taskPath(index).key("env")) }
        if let cwd = task.cwd {
            if cwd.isEmpty {
                fail(taskPath(index).key("cwd"), SpecMessages.empty)
            } else if cwd.utf8.contains(0) {
                fail(taskPath(index).key("cwd"), SpecMessages.nul)
            }
        }
    }

    /// A command must have something to run: not blank, not an empty argv, not an empty
    /// program name; and no NUL, which cannot reach `exec`.
    private func checkCommand(_ command: CommandLine, at path: @autoclosure () -> SpecPath) {
        switch command {
        case .shell(let script):
            if script.allSatisfy(\.isWhitespace) {
                fail(path(), SpecMessages.empty)
            } else if script.utf8.contains(0) {
                fail(path(), SpecMessages.nul)
            }
        case .argv(let words):
            guard let program = words.first else {
                fail(path(), SpecMessages.empty)
                return
            }
            if program.isEmpty { fail(path().index(0), SpecMessages.emptyProgram) }
            for (position, word) in words.enumerated() where word.utf8.contains(0) {
                fail(path().index(position), SpecMessages.nul)
            }
        }
    }
}
