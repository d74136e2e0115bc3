import { describe, k6chai } from './k6chaijs-core.ts';

/** The k6chaijs jslib 4.5.0.1 and later (see k6chaijs-core.ts): untagged checks, config.exitOnError. */
const chai = k6chai({ checkTags: false, exitOnError: true });
export const expect = chai.expect;
export { describe };
export default chai;
