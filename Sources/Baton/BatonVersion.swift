/// The version `baton --version` prints and `baton_build_info` exports.
enum BatonVersion {
    static let current = "0.1.0"
}
