// The two places where OSS Spark Thrift Server (Hive protocol) answers differently from a Databricks SQL
// warehouse, as pure functions over the driver's own generated Thrift structs. Each one only changes a
// value that Databricks never sends in that shape, so against Databricks it would be a no-op.

/** TProtocolVersion values we touch (from TCLIService.thrift). */
export const HIVE_JDBC_WORKAROUND = -7;
export const HIVE_CLI_SERVICE_PROTOCOL_V10 = 9;
/** TSparkRowSetType.COLUMN_BASED_SET */
export const COLUMN_BASED_SET = 1;

export interface OpenSessionReq {
  client_protocol: number | null;
  client_protocol_i64?: unknown;
}
export interface ColumnDesc {
  position: number | null;
}
export interface ResultSetMetadataResp {
  resultFormat?: number | null;
  schema?: { columns?: ColumnDesc[] | null } | null;
}

/**
 * @databricks/sql announces its protocol in the Databricks-only field `client_protocol_i64` and leaves the
 * classic `client_protocol` at its JDBC-workaround default (-7). Spark's Hive server only reads the classic
 * field and rejects the session ("Required field 'client_protocol' is unset!"). Ask for Hive V10: Spark 4's
 * server speaks up to V11 (hive-service-rpc 4.0) and Spark 3.5's up to V10; V11 adds nothing the driver uses.
 */
export function rewriteOpenSession(req: OpenSessionReq): boolean {
  if (req.client_protocol !== HIVE_JDBC_WORKAROUND && req.client_protocol !== null) return false;
  req.client_protocol = HIVE_CLI_SERVICE_PROTOCOL_V10;
  return true;
}

/**
 * Spark returns no `resultFormat` (the driver then refuses to fetch: "Unsupported result format: undefined")
 * and numbers column positions from 0 where Databricks numbers them from 1 (the driver would drop the first
 * column). Fill the format with the row-set type Spark actually sends, and shift positions only when they are
 * exactly 0..n-1.
 */
export function rewriteResultSetMetadata(resp: ResultSetMetadataResp): boolean {
  let changed = false;
  if (resp.resultFormat === null || resp.resultFormat === undefined) {
    resp.resultFormat = COLUMN_BASED_SET;
    changed = true;
  }
  const columns = resp.schema?.columns ?? [];
  if (columns.length > 0 && columns.every((c, i) => c.position === i)) {
    for (const c of columns) c.position = (c.position as number) + 1;
    changed = true;
  }
  return changed;
}
