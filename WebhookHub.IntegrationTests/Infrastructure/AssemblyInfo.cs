// Hangfire keeps its storage in a static (JobStorage.Current) and each test app owns a real Hangfire
// server and SQLite files; running the apps one at a time keeps them from seeing each other.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
