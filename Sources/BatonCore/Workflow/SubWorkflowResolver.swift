/// Gives every `workflow: NAME` task of a spec the stored workflow's spec (a snapshot:
/// the run keeps what it was started with), at every depth, and refuses recursion (`a ->
/// b -> a` across stored workflows) and nesting deeper than ``SubWorkflow/maxDepth``.
public enum SubWorkflowResolver {
    /// - Parameters:
    ///   - name: the stored workflow `spec` itself is, if any (a reference back to it is
    ///     recursion).
    ///   - lookup: the spec of a stored workflow, nil when there is none.
    public static func resolve(
        _ spec: WorkflowSpec, name: String? = nil, lookup: (String) throws -> WorkflowSpec?
    ) throws -> WorkflowSpec {
        var errors: [SpecError] = []
        let resolved = try resolve(
            spec, chain: name.map { [$0] } ?? [], depth: 1, path: "", lookup: lookup, errors: &errors)
        guard errors.isEmpty else { throw SpecErrors(errors) }
        return resolved
    }

    private static func resolve(
        _ spec: WorkflowSpec, chain: [String], depth: Int, path: String,
        lookup: (String) throws -> WorkflowSpec?, errors: inout [SpecError]
    ) throws -> WorkflowSpec {
        // Read-only first: a spec without sub-workflows (the common case) is returned as it
        // is, sharing its tasks, instead of copying them all (2.7 MB at 10,000 tasks).
        let nestedIndices = spec.tasks.indices.filter { spec.tasks[$0].subWorkflow != nil }
        guard !nestedIndices.isEmpty else { return spec }
        var spec = spec
        for index in nestedIndices {
            guard let sub = spec.tasks[index].subWorkflow else { continue }
            let taskPath = "\(path)tasks[\(index)]"
            let label = "task \"\(spec.tasks[index].name)\""
            guard depth < SubWorkflow.maxDepth else {
                errors.append(
                    SpecError(
                        path: taskPath,
                        message: "\(label): workflows nest at most \(SubWorkflow.maxDepth) deep"))
                continue
            }
            var nested = sub.spec
            var nestedChain = chain
            if nested == nil, let name = sub.name {
                if chain.contains(name) {
                    let cycle = (chain.drop { $0 != name } + [name]).joined(separator: " -> ")
                    errors.append(
                        SpecError(path: "\(taskPath).workflow", message: "\(label): recursive workflow \(cycle)"))
                    continue
                }
                guard var stored = try lookup(name) else {
                    errors.append(
                        SpecError(path: "\(taskPath).workflow", message: "\(label): no stored workflow \"\(name)\""))
                    continue
                }
                stored.name = spec.tasks[index].name
                // What a nested workflow cannot hold moves to the task: the stored env
                // (the task's own wins), its deadline (unless the task has a limit); a child
                // run sends no notifications.
                var env = stored.env
                for (key, value) in spec.tasks[index].env { env[key] = value }
                spec.tasks[index].env = env
                if spec.tasks[index].timeoutSeconds == 0, let seconds = stored.timeoutSeconds {
                    spec.tasks[index].timeoutSeconds = seconds
                }
                stored.env = [:]
                stored.timeoutSeconds = nil
                stored.notify = []
                nested = stored
                nestedChain.append(name)
            }
            guard let child = nested else { continue }
            let resolved = try resolve(
                child, chain: nestedChain, depth: depth + 1, path: "\(taskPath).", lookup: lookup, errors: &errors)
            spec.tasks[index].subWorkflow = SubWorkflow(name: sub.name, spec: resolved)
        }
        return spec
    }
}
