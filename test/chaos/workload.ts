// The chaos run's write load: Phoenix- and Langfuse-v2-shaped tables written the way those platforms
// write — inserts with large JSON (TOASTed), repeated updates that leave the large columns untouched,
// deletes, now and then a large transaction, and once a schema change. Writes survive a Postgres
// restart (a pool reconnects; a failed transaction is simply not counted).
import type pg from 'pg';
import { sleep } from '../support/wait.ts';

export type Rng = () => number;

/** mulberry32: a small seeded PRNG, so a failing run can be replayed from its seed. */
export function seededRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs `step` again and again until stopped; a failed step (its database restarting) is counted, not fatal. */
export class LoadLoop {
  private readonly step: () => Promise<void>;
  private readonly pauseMs: () => number;
  private running = false;
  private loop: Promise<void> | undefined;
  done = 0;
  failed = 0;

  constructor(step: () => Promise<void>, pauseMs: () => number) {
    this.step = step;
    this.pauseMs = pauseMs;
  }

  start(): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        try {
          await this.step();
          this.done++;
        } catch {
          this.failed++; // the database restarting: the write did not happen, nothing to account for
          await sleep(500);
        }
        await sleep(this.pauseMs());
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}

export const TABLES = ['spans', 'observations'] as const;

export async function createTables(db: pg.Pool, schema: string): Promise<void> {
  await db.query(`CREATE TABLE ${schema}.spans (
    id bigint PRIMARY KEY, trace_rowid bigint NOT NULL, name text NOT NULL, span_kind text, status_code text,
    start_time timestamptz NOT NULL, end_time timestamptz, attributes jsonb NOT NULL, cumulative_llm_token_count_prompt int8 DEFAULT 0)`);
  await db.query(`CREATE TABLE ${schema}.observations (
    id text PRIMARY KEY, trace_id text, type text NOT NULL, name text, start_time timestamptz NOT NULL, end_time timestamptz,
    input jsonb, output jsonb, prompt_tokens int NOT NULL DEFAULT 0, completion_tokens int NOT NULL DEFAULT 0,
    calculated_total_cost numeric(65,30), updated_at timestamptz NOT NULL DEFAULT now())`);
}

const big = (rng: Rng, n: number) => JSON.stringify({ 'llm.input_messages': Array.from({ length: n }, (_, i) => ({ role: 'user', content: `${Math.floor(rng() * 1e9).toString(36)}-${i}`.repeat(40) })) });

export class Workload {
  private readonly db: pg.Pool;
  private readonly schema: string;
  private readonly rng: Rng;
  private nextSpan = 1;
  private nextObs = 1;
  private readonly load: LoadLoop;
  schemaChanged = false;

  constructor(db: pg.Pool, schema: string, rng: Rng) {
    this.db = db;
    this.schema = schema;
    this.rng = rng;
    this.load = new LoadLoop(() => this.step(), () => 20 + this.rng() * 80);
  }

  get transactions(): number {
    return this.load.done;
  }

  get failed(): number {
    return this.load.failed;
  }

  /** The rows present before the connector starts (they arrive through the snapshot). */
  async seed(rows: number): Promise<void> {
    for (let i = 0; i < rows; i += 50) await this.insertSpans(50);
    for (let i = 0; i < rows / 2; i += 25) await this.insertObservations(25);
  }

  start(): void {
    this.load.start();
  }

  stop(): Promise<void> {
    return this.load.stop();
  }

  /** Once, mid-run: a new column (a schema evolution the whole pipeline has to carry). */
  async changeSchema(): Promise<void> {
    await this.db.query(`ALTER TABLE ${this.schema}.spans ADD COLUMN IF NOT EXISTS session_id text`);
    this.schemaChanged = true;
  }

  private async step(): Promise<void> {
    const r = this.rng();
    const s = this.schema;
    if (r < 0.3) return this.insertSpans(1 + Math.floor(this.rng() * 5));
    if (r < 0.45) return this.insertObservations(1 + Math.floor(this.rng() * 3));
    if (r < 0.65) { // repeated small updates: the large attributes stay TOASTed and unchanged
      const id = 1 + Math.floor(this.rng() * Math.max(1, this.nextSpan - 1));
      await this.db.query(`UPDATE ${s}.spans SET cumulative_llm_token_count_prompt = cumulative_llm_token_count_prompt + 1, status_code = $2${this.schemaChanged ? ", session_id = 'sess-' || id % 7" : ''} WHERE id = $1`,
        [id, this.rng() < 0.1 ? 'ERROR' : 'OK']);
      return;
    }
    if (r < 0.8) { // Langfuse's upsert pattern: the same observation written again with more fields
      const id = `obs-${1 + Math.floor(this.rng() * Math.max(1, this.nextObs - 1))}`;
      await this.db.query(`UPDATE ${s}.observations SET end_time = now(), completion_tokens = completion_tokens + 7,
        calculated_total_cost = COALESCE(calculated_total_cost, 0) + 0.000001234567890123, updated_at = now() WHERE id = $1`, [id]);
      return;
    }
    if (r < 0.9) {
      const id = 1 + Math.floor(this.rng() * Math.max(1, this.nextSpan - 1));
      await this.db.query(`DELETE FROM ${s}.spans WHERE id = $1`, [id]);
      await this.db.query(`DELETE FROM ${s}.observations WHERE id = $1`, [`obs-${id}`]);
      return;
    }
    if (r < 0.905) { // now and then a large transaction
      const from = this.nextSpan;
      const n = 1000 + Math.floor(this.rng() * 2000);
      this.nextSpan += n;
      await this.db.query(`INSERT INTO ${s}.spans (id, trace_rowid, name, span_kind, status_code, start_time, attributes)
        SELECT g, g / 10, 'bulk ' || g, 'LLM', 'OK', now(), jsonb_build_object('i', g) FROM generate_series($1::bigint, $2::bigint) g`, [from, from + n - 1]);
      return;
    }
    await this.insertSpans(1);
  }

  private async insertSpans(n: number): Promise<void> {
    const from = this.nextSpan;
    this.nextSpan += n;
    const values = Array.from({ length: n }, (_, i) => `(${from + i}, ${Math.floor((from + i) / 5)}, 'span ${from + i}', 'LLM', 'OK', now(), now(), $1::jsonb)`);
    await this.db.query(`INSERT INTO ${this.schema}.spans (id, trace_rowid, name, span_kind, status_code, start_time, end_time, attributes) VALUES ${values.join(', ')}`, [big(this.rng, 30)]);
  }

  private async insertObservations(n: number): Promise<void> {
    const from = this.nextObs;
    this.nextObs += n;
    const values = Array.from({ length: n }, (_, i) => `('obs-${from + i}', 'trace-${Math.floor((from + i) / 3)}', 'GENERATION', 'gen', now(), $1::jsonb, 11)`);
    await this.db.query(`INSERT INTO ${this.schema}.observations (id, trace_id, type, name, start_time, input, prompt_tokens) VALUES ${values.join(', ')}`, [big(this.rng, 20)]);
  }
}
