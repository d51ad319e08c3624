/**
 * @module test/fuzz/generators/envelope: run request bodies. A valid ActionRequest envelope
 * first, then mutated field by field (a hostile value, a wrong type, a field dropped, an
 * unknown one added), so most requests get past the parser and reach validation, the store
 * and the serializer. Deadlines are `{{deadline:+S}}` placeholders, filled in at send time.
 */
import fc from 'fast-check';
import {
  type Fragment,
  fragment,
  hostileArray,
  hostileString,
  hostileValue,
  plainValue,
  size,
  sized,
} from './values.ts';

const uuid = (n: number, variant = '8') => `00000000-0000-4000-${variant}000-${String(n).padStart(12, '0')}`;
/** The fuzz users' identity URNs (the ids of test/support/identities.ts) and the member's group. */
export const USER_URNS = [1, 2, 3, 4, 5, 6].map((n) => `urn:globus:auth:identity:${uuid(n)}`);
export const GROUP_URN = `urn:globus:groups:id:${uuid(100)}`;

const json = (name: string) => (value: unknown) => fragment(name, JSON.stringify(value));

const principal: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...USER_URNS, GROUP_URN) },
  { weight: 2, arbitrary: fc.uuid().map((id) => `urn:globus:auth:identity:${id}`) },
  { weight: 1, arbitrary: fc.uuid().map((id) => `urn:globus:groups:id:${id}`) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      'urn:globus:auth:identity:',
      `urn:globus:auth:identity:${uuid(1)}x`,
      `URN:GLOBUS:AUTH:IDENTITY:${uuid(1)}`,
      `urn:globus:auth:identity:${uuid(1)}\u0000`,
      `urn:globus:auth:identity:${uuid(1)}\n`,
      'public',
      'all_authenticated_users',
      '',
    ),
  },
);

/** monitor_by / manage_by: short lists, duplicates, and lists far past any sane cap. */
const principalList: fc.Arbitrary<Fragment> = fc.oneof(
  { weight: 6, arbitrary: fc.array(principal, { maxLength: 5 }).map(json('principals')) },
  { weight: 1, arbitrary: fc.constant(fragment('duplicate-principals', JSON.stringify(Array(50).fill(USER_URNS[0])))) },
  {
    weight: 1,
    arbitrary: size(100, 20_000).map((n) =>
      json(sized('many-principals', n))(
        Array.from({ length: n }, (_, i) => `urn:globus:auth:identity:${uuid(i, '9')}`),
      ),
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom(...USER_URNS).map(json('principal-not-list')) },
  { weight: 1, arbitrary: fc.constant(fragment('nested-principals', `[[${JSON.stringify(USER_URNS[0])}]]`)) },
);

const allowedClients: fc.Arbitrary<Fragment> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.subarray(['public', 'globus', 'creator', 'x', '\u0000', 'ab', '']).map(json('allowed-clients')),
  },
  {
    weight: 1,
    arbitrary: size(100, 50_000).map((n) => json(sized('many-allowed-clients', n))(Array(n).fill('public'))),
  },
);

const releaseAfter: fc.Arbitrary<Fragment> = fc.oneof(
  // Short retention keeps the store's completed actions from piling up over 100,000 requests.
  { weight: 6, arbitrary: fc.constantFrom('PT1S', 'PT5S', 'PT30S', 'P0D', 'PT0S').map(json('release-short')) },
  { weight: 2, arbitrary: fc.constantFrom(0, 1, 30).map(json('release-seconds')) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('P30D', 'P1Y', 'P1M', 'P2W', 'P1.5D', 'P1Y2M3W4DT5H6M7.5S').map(json('release-valid')),
  },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom(
        'P99999999999999999999Y',
        `P${'9'.repeat(400)}D`,
        'PT99999999999999999999S',
        'P1e3D',
        'PT',
        'P',
        'PT-1S',
        'p30d',
        'P30D ',
        '30',
        '',
      )
      .map((v) => fragment(`release:${JSON.stringify(v).slice(0, 24)}`, JSON.stringify(v))),
  },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom('1e21', '-1', '1.5', '9007199254740993', '1e999', '1e308', '2147483648')
      .map((n) => fragment(`release:${n}`, n)),
  },
);

const deadline: fc.Arbitrary<Fragment> = fc.oneof(
  fc.constantFrom(60, 3600, 86_400).map((s) => fragment('deadline-valid', `"{{deadline:+${s}}}"`)),
  fc
    .constantFrom(-60, 40 * 86_400)
    .map((s) => fragment(`deadline:now${s < 0 ? '' : '+'}${s}s`, `"{{deadline:+${s}}}"`)),
  fc
    .constantFrom(
      '2000-01-01T00:00:00Z',
      '9999-12-31T23:59:59Z',
      '2030-02-30T25:61:61Z',
      '2030-01-01T00:00:00',
      '2030-01-01t00:00:00z',
      '+275760-09-13T00:00:00.000Z',
      '2030-01-01T00:00:00.123456789123456789+00:00',
      '0000-01-01T00:00:00Z',
      'tomorrow',
    )
    .map((v) => fragment(`deadline:${v.slice(0, 24)}`, JSON.stringify(v))),
);

const label: fc.Arbitrary<Fragment> = fc.oneof(
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }).map(json('label')),
  fc
    .constantFrom<[string, string]>(
      ['x'.repeat(64), '64-chars'],
      ['x'.repeat(65), '65-chars'],
      ['😀'.repeat(64), '64-emoji'],
      ['😀'.repeat(65), '65-emoji'],
      ['', 'empty'],
    )
    .map(([v, name]) => fragment(`label:${name}`, JSON.stringify(v))),
);

/** request_id: a small shared set (so duplicates, conflicts and races happen), fresh ones, and hostile ones. */
const requestId: fc.Arbitrary<Fragment> = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 15 }).map((n) => json('request-id-shared')(`r${n}`)) },
  { weight: 4, arbitrary: fc.uuid().map(json('request-id-fresh')) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('1', '1e21', '-0', '0.5', '1e999').map((n) => fragment(`request-id:${n}`, n)),
  },
  { weight: 2, arbitrary: hostileString },
);

/** Fragment names that are ordinary values: they do not make a feature of a request. */
const BENIGN = new Set([
  'plain',
  'body',
  'principals',
  'allowed-clients',
  'release-short',
  'release-seconds',
  'release-valid',
  'deadline-valid',
  'label',
  'request-id-shared',
  'request-id-fresh',
  'body-status',
  'body-n',
  'body-text',
  'body-tags',
]);

/** A key as features name it: JSON-quoted when it is not a plain word (`"\u0000"`, `""`). */
const keyName = (key: string) => (/^[\w.$]+$/.test(key) ? key : JSON.stringify(key));

/** `key=name` and `any=name` for a hostile fragment (the second for a defect of the value wherever it is); nothing for a benign one. */
const featuresOf = (key: string, value: Fragment): string[] => {
  if (BENIGN.has(value.name)) return [];
  const features = [`${keyName(key)}=${value.name}`, `any=${value.name}`];
  // `deep-array~1e3` is also `any=deep~1e3`: one recursion limit, whatever the container.
  const [, family, magnitude] = /^([a-z]+)-.*(~1e\d+)$/.exec(value.name) ?? [];
  if (family !== undefined) features.push(`any=${family}${magnitude}`);
  return features;
};

/** The action's `body`: what the provider's input schema (test/fuzz/provider.ts) judges; the benign fields pass it. */
const actionBody: fc.Arbitrary<Fragment & { features: string[] }> = fc
  .record(
    {
      status: fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom('ACTIVE', 'INACTIVE', 'FAILED').map(json('body-status')) },
        { weight: 1, arbitrary: hostileString },
      ),
      n: fc.oneof(
        { weight: 4, arbitrary: fc.integer({ min: -1000, max: 1000 }).map(json('body-n')) },
        { weight: 1, arbitrary: fc.constantFrom('1e21', '1e999', '-0').map((n) => fragment('number-edge', n)) },
      ),
      text: fc.oneof(
        { weight: 4, arbitrary: fc.string({ maxLength: 50 }).map(json('body-text')) },
        { weight: 1, arbitrary: fc.constant(fragment('text-too-long', JSON.stringify('t'.repeat(5000)))) },
      ),
      tags: fc.oneof(
        { weight: 4, arbitrary: fc.array(fc.string({ maxLength: 8 }), { maxLength: 5 }).map(json('body-tags')) },
        { weight: 1, arbitrary: fc.constant(fragment('too-many-tags', JSON.stringify(Array(200).fill('t')))) },
      ),
      echo: fc.oneof(plainValue, hostileValue),
    },
    { requiredKeys: [] },
  )
  .map((fields) => {
    const entries = Object.entries(fields) as [string, Fragment][];
    return {
      name: 'body',
      json: `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v.json}`).join(',')}}`,
      features: entries.flatMap(([k, v]) => featuresOf(`body.${k}`, v)),
    };
  });

type Field = [key: string, value: Fragment];

const optionalFields: fc.Arbitrary<Field[]> = fc
  .record(
    {
      label,
      monitor_by: principalList,
      manage_by: principalList,
      allowed_clients: allowedClients,
      deadline,
      release_after: releaseAfter,
    },
    { requiredKeys: [] },
  )
  .map((record) => Object.entries(record) as Field[]);

/** A change to an envelope: one field's value made hostile or dropped, an unknown or duplicate key added. */
type Mutation = (fields: Field[]) => [Field[], string];

const FIELDS = [
  'request_id',
  'body',
  'label',
  'monitor_by',
  'manage_by',
  'allowed_clients',
  'deadline',
  'release_after',
];

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.tuple(fc.constantFrom(...FIELDS), fc.oneof(hostileValue, hostileArray)).map(
    ([key, value]): Mutation =>
      (fields) => [[...fields.filter(([k]) => k !== key), [key, value]], `${key}=${value.name}`],
  ),
  fc.constantFrom('request_id', 'body').map(
    (key): Mutation =>
      (fields) => [fields.filter(([k]) => k !== key), `drop-${key}`],
  ),
  fc.tuple(fc.constantFrom('tags', '__proto__', 'constructor', 'state', 'action_id', '\u0000', ''), hostileValue).map(
    ([key, value]): Mutation =>
      (fields) => [[...fields, [key, value]], `extra-key:${JSON.stringify(key)}`],
  ),
  fc.constantFrom('request_id', 'body').map(
    (key): Mutation =>
      (fields) => [[...fields, [key, fragment('dup', '{"x":1}')]], `duplicate-${key}`],
  ),
);

/** An envelope's text and its features (the hostile parts): valid (a third) or mutated one to three times. */
export const envelope: fc.Arbitrary<{ text: string; features: string[] }> = fc
  .tuple(
    requestId,
    actionBody,
    optionalFields,
    fc.oneof(
      { weight: 3, arbitrary: fc.constant([]) },
      { weight: 5, arbitrary: fc.array(mutation, { minLength: 1, maxLength: 3 }) },
    ),
  )
  .map(([id, body, optional, mutations]) => {
    let fields: Field[] = [['request_id', id], ['body', body], ...optional];
    const features = new Set<string>();
    for (const mutate of mutations) {
      const [next, name] = mutate(fields);
      fields = next;
      features.add(name);
    }
    for (const [k, v] of fields)
      for (const f of k === 'body' && v === body ? body.features : featuresOf(k, v)) features.add(f);
    const text = `{${fields.map(([k, v]) => `${JSON.stringify(k)}:${v.json}`).join(',')}}`;
    return { text, features: [...features].sort() };
  });
