import { test } from 'node:test';
import assert from 'node:assert/strict';
import { changeTopicMatcher, topicName } from '../../../schemas/src/envelope.ts';

test('change topics are <prefix>.<schema>.<table>, also when the prefix holds dots', () => {
  const plain = changeTopicMatcher('tracelake');
  assert.equal(plain(topicName('tracelake', 'public', 'spans')), true);
  assert.equal(plain('tracelake.public'), false);
  assert.equal(plain('tracelake-connector-state'), false);
  assert.equal(plain('other.public.spans'), false);
  const dotted = changeTopicMatcher('prod.cdc');
  assert.equal(dotted(topicName('prod.cdc', 'public', 'spans')), true);
  assert.equal(dotted('prodXcdc.public.spans'), false, 'the dot in the prefix is literal');
  assert.equal(dotted('prod.cdc.public.spans.extra'), false);
});
