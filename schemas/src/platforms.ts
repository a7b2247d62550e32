// What tracelake knows about the trace platforms it mirrors: the tables worth capturing (and those never to
// capture), shared by the connector (which tables to publish) and the sink (which views to build).
// The table lists come from the platforms' own schemas (Phoenix's and Langfuse's migrations), checked against
// Phoenix 20.26 running on the local stack; docs/platforms.md says what is captured for each platform.

export type Platform = 'phoenix' | 'langfuse' | 'custom';

export interface PlatformPreset {
  /** tables captured by default, in the platform's schema */
  tables: string[];
  /** tables never captured by default, with the reason logged at start */
  excluded: Record<string, string>;
}

export const PRESETS: Record<Exclude<Platform, 'custom'>, PlatformPreset> = {
  phoenix: {
    tables: [
      'projects', 'traces', 'spans', 'span_costs', 'span_cost_details', 'project_sessions',
      'span_annotations', 'trace_annotations', 'document_annotations', 'project_session_annotations',
      'datasets', 'dataset_versions', 'dataset_examples', 'dataset_example_revisions',
      'experiments', 'experiment_runs', 'prompts', 'prompt_versions', 'generative_models', 'token_prices',
    ],
    excluded: {
      users: 'password hashes', api_keys: 'credentials', access_tokens: 'credentials', refresh_tokens: 'credentials',
      password_reset_tokens: 'credentials', secrets: 'credentials', oauth2_clients: 'credentials',
      oauth2_authorization_codes: 'credentials', oauth2_grants: 'credentials',
    },
  },
  langfuse: {
    // v2: traces, observations and scores live in Postgres; v3+ keeps them in ClickHouse (v4 drops the tables),
    // and the rest below is what Postgres still holds. Tables a version lacks are skipped.
    tables: [
      'projects', 'traces', 'observations', 'scores', 'trace_sessions', 'models', 'prices', 'prompts',
      'datasets', 'dataset_items', 'dataset_runs', 'score_configs', 'annotation_queues', 'annotation_queue_items', 'comments',
    ],
    excluded: {
      media: 'no primary key since migration 20250519093328: publishing it breaks Langfuse\'s own UPDATEs',
      verification_tokens: 'no primary key: publishing it breaks Langfuse\'s own DELETEs',
      users: 'password hashes', api_keys: 'credentials', llm_api_keys: 'credentials', sso_configs: 'credentials',
      Account: 'OAuth tokens', Session: 'session tokens',
    },
  },
};

/** Tables whose presence tells the Langfuse generation: v2 (and v3 before its cleanup) keep trace data in Postgres. */
export const LANGFUSE_TRACE_TABLES = ['traces', 'observations', 'scores'];
