// The tables of platforms that hand their traces out as files (sources/object-storage): per platform, the tables,
// their key, the column that versions a row (if the export has one) and the known columns with their kinds.
// Columns an export adds later are captured too (schema evolution), with a kind taken from their values.
// The field lists come from the platforms' documentation and code (docs/platforms.md).

/** The kinds of exported columns (sources/object-storage/export-values.ts maps each to Avro and Delta). */
export const COLUMN_KINDS = ['string', 'json', 'timestamp', 'double', 'long', 'boolean', 'strings'] as const;
export type ColumnKind = (typeof COLUMN_KINDS)[number];

export interface ExportTablePreset {
  /** the row identity */
  key: string[];
  /** a column holding the row's last update time: a later one wins; without it, the later export wins */
  version?: string;
  columns: Array<[name: string, kind: ColumnKind]>;
}

export interface ExportPreset {
  /** the schema part of the topic names (<topicPrefix>.<schema>.<table>) */
  schema: string;
  tables: Record<string, ExportTablePreset>;
}

const LANGSMITH_RUNS: ExportTablePreset = {
  key: ['id'],
  columns: [
    ['id', 'string'], ['tenant_id', 'string'], ['session_id', 'string'], ['trace_id', 'string'], ['parent_run_id', 'string'],
    ['parent_run_ids', 'json'], ['reference_example_id', 'string'], ['name', 'string'], ['run_type', 'string'],
    ['start_time', 'timestamp'], ['end_time', 'timestamp'], ['status', 'string'], ['is_root', 'boolean'], ['dotted_order', 'string'],
    ['trace_tier', 'string'], ['inputs', 'json'], ['outputs', 'json'], ['error', 'string'], ['extra', 'json'], ['events', 'json'],
    ['tags', 'strings'], ['feedback_stats', 'json'], ['total_tokens', 'long'], ['prompt_tokens', 'long'], ['completion_tokens', 'long'],
    ['total_cost', 'double'], ['prompt_cost', 'double'], ['completion_cost', 'double'], ['first_token_time', 'timestamp'],
    ['export_id', 'string'],
  ],
};

// Langfuse's blob-storage export (worker/src/features/blobstorage in langfuse/langfuse): columns as its queries
// select them; ClickHouse maps and arrays arrive as JSON objects/arrays (Parquet: MAP/LIST), prices as the
// decimal text Langfuse's JSON serialiser writes. Columns of unselected field groups are simply absent.
const PRICES: Array<[string, ColumnKind]> = [['input_price', 'string'], ['output_price', 'string'], ['total_price', 'string']];
const LANGFUSE_TRACES: ExportTablePreset = {
  key: ['project_id', 'id'], version: 'updated_at',
  columns: [
    ['id', 'string'], ['timestamp', 'timestamp'], ['name', 'string'], ['environment', 'string'], ['project_id', 'string'],
    ['metadata', 'json'], ['user_id', 'string'], ['session_id', 'string'], ['release', 'string'], ['version', 'string'],
    ['public', 'boolean'], ['bookmarked', 'boolean'], ['tags', 'strings'], ['input', 'string'], ['output', 'string'],
    ['created_at', 'timestamp'], ['updated_at', 'timestamp'],
  ],
};
const LANGFUSE_SCORES: ExportTablePreset = {
  key: ['project_id', 'id'], version: 'updated_at',
  columns: [
    ['id', 'string'], ['timestamp', 'timestamp'], ['project_id', 'string'], ['environment', 'string'], ['trace_id', 'string'],
    ['observation_id', 'string'], ['session_id', 'string'], ['dataset_run_id', 'string'], ['name', 'string'], ['value', 'double'],
    ['source', 'string'], ['comment', 'string'], ['data_type', 'string'], ['string_value', 'string'],
    ['created_at', 'timestamp'], ['updated_at', 'timestamp'],
  ],
};
/** the legacy (v3) observations table */
const LANGFUSE_OBSERVATIONS: ExportTablePreset = {
  key: ['project_id', 'id'], version: 'updated_at',
  columns: [
    ['id', 'string'], ['trace_id', 'string'], ['project_id', 'string'], ['environment', 'string'], ['type', 'string'],
    ['parent_observation_id', 'string'], ['start_time', 'timestamp'], ['end_time', 'timestamp'], ['name', 'string'],
    ['metadata', 'json'], ['level', 'string'], ['status_message', 'string'], ['version', 'string'], ['input', 'string'],
    ['output', 'string'], ['provided_model_name', 'string'], ['model_parameters', 'string'], ['usage_details', 'json'],
    ['cost_details', 'json'], ['completion_start_time', 'timestamp'], ['prompt_name', 'string'], ['prompt_version', 'long'],
    ['total_cost', 'double'], ['latency', 'double'], ['time_to_first_token', 'double'], ['model_id', 'string'],
    ['created_at', 'timestamp'], ['updated_at', 'timestamp'], ['prompt_id', 'string'], ['tool_calls', 'strings'],
    ['tool_call_names', 'strings'], ['tool_definitions', 'json'], ['usage_pricing_tier_name', 'string'], ...PRICES,
  ],
};
/** enriched observations (v4's events table); latency is ms or s depending on when the integration was made */
const LANGFUSE_OBSERVATIONS_V2: ExportTablePreset = {
  key: ['project_id', 'id'], version: 'updated_at',
  columns: [
    ['id', 'string'], ['trace_id', 'string'], ['start_time', 'timestamp'], ['end_time', 'timestamp'], ['project_id', 'string'],
    ['parent_observation_id', 'string'], ['type', 'string'], ['name', 'string'], ['level', 'string'], ['status_message', 'string'],
    ['version', 'string'], ['environment', 'string'], ['bookmarked', 'boolean'], ['public', 'boolean'], ['user_id', 'string'],
    ['session_id', 'string'], ['is_root_observation', 'boolean'], ['completion_start_time', 'timestamp'],
    ['created_at', 'timestamp'], ['updated_at', 'timestamp'], ['metadata', 'json'], ['provided_model_name', 'string'],
    ['model_id', 'string'], ['model_parameters', 'string'], ['usage_details', 'json'], ['cost_details', 'json'],
    ['total_cost', 'double'], ['usage_pricing_tier_id', 'string'], ['usage_pricing_tier_name', 'string'], ['prompt_id', 'string'],
    ['prompt_name', 'string'], ['prompt_version', 'long'], ['latency', 'double'], ['time_to_first_token', 'double'],
    ['tool_definitions', 'json'], ['tool_calls', 'strings'], ['tool_call_names', 'strings'], ['tags', 'strings'],
    ['release', 'string'], ['trace_name', 'string'], ['input', 'string'], ['output', 'string'], ...PRICES,
  ],
};

export const EXPORT_PRESETS: Record<'langfuse-export' | 'langsmith-export', ExportPreset> = {
  'langsmith-export': { schema: 'langsmith_export', tables: { runs: LANGSMITH_RUNS } },
  'langfuse-export': {
    schema: 'langfuse_export',
    tables: { traces: LANGFUSE_TRACES, observations: LANGFUSE_OBSERVATIONS, observations_v2: LANGFUSE_OBSERVATIONS_V2, scores: LANGFUSE_SCORES },
  },
};
