import { test } from 'node:test';
import assert from 'node:assert/strict';
import { curatedViews, type ViewSet } from '../../../sink/src/views/view-set.ts';
import { phoenixViews } from '../../../sink/src/views/phoenix-views.ts';
import { langfuseViews } from '../../../sink/src/views/langfuse-views.ts';
import { langfuseV3Views, langfuseV4Views } from '../../../sink/src/views/langfuse-clickhouse-views.ts';
import { langfuseExportLegacyViews, langfuseExportV2Views, langsmithExportViews } from '../../../sink/src/views/export-views.ts';

const t = (name: string) => `s.${name}`;
const variants = (set: ViewSet) => [new Set(set.required), new Set([...set.required, ...set.optional])];

test('a JSON attribute becomes a number with try_cast: with ANSI mode on, a CAST of text that is not a number fails every query over the view', () => {
  for (const set of [phoenixViews, langfuseViews, langfuseV3Views, langfuseV4Views, langfuseExportV2Views, langfuseExportLegacyViews, langsmithExportViews]) {
    for (const present of variants(set)) {
      for (const [view, sql] of Object.entries(curatedViews(set, t, present))) {
        assert.doesNotMatch(sql, /(?<!try_)CAST\(\s*get_json_object/i, `${view} casts a JSON attribute with CAST`);
      }
    }
  }
  const phoenix = phoenixViews.llmSpans(t, new Set(phoenixViews.required));
  assert.match(phoenix, /coalesce\(try_cast\(get_json_object\(s\.attributes, '\$\.llm\.token_count\.total'\) AS BIGINT\), /);
});
