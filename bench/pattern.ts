// Parse speed of STIX patterns (≥ 50,000 indicators/s overall, so a pattern must take
// a few microseconds): checkPattern over a mix of typical indicator patterns.
import { checkPattern } from 'stix2-validator-ts';

const TYPICAL = [
  "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
  "[ipv4-addr:value = '198.51.100.1/32' OR ipv4-addr:value = '203.0.113.33/32']",
  "[domain-name:value = 'www.5z8.info' AND domain-name:resolves_to_refs[*].value = '198.51.100.1/32']",
  "[url:value = 'http://example.com/foo' OR url:value = 'http://example.com/bar']",
  "([file:hashes.MD5 = '79054025255fb1a26e4bc422aef54eb4'] FOLLOWEDBY [windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\foo\\\\bar']) WITHIN 300 SECONDS",
  "[email-message:from_ref.value MATCHES '.+\\\\@example\\\\.com$' AND email-message:body_multipart[*].body_raw_ref.name MATCHES '^Final Report.+\\\\.exe$']",
  "[network-traffic:dst_ref.type = 'domain-name' AND network-traffic:dst_ref.value = 'example.com'] REPEATS 5 TIMES WITHIN 1800 SECONDS",
  "[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]",
];

export async function benchPattern(): Promise<{ patternsPerSecond: number }> {
  let sink = 0;
  const round = () => {
    for (const p of TYPICAL) sink += checkPattern(p).length;
  };
  for (let i = 0; i < 20_000; i++) round(); // warm-up for the JIT
  const rounds = 100_000;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) round();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (sink !== 0) throw new Error('the benchmark patterns are expected to be clean');
  return { patternsPerSecond: Math.round((rounds * TYPICAL.length) / seconds) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${JSON.stringify(await benchPattern())}\n`);
}
