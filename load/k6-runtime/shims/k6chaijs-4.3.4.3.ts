import { describe, k6chai } from './k6chaijs-core.ts';

/** The k6chaijs jslib 4.3.4.3 and 4.5.0.0 (see k6chaijs-core.ts): untagged checks, no exitOnError. */
const chai = k6chai({ checkTags: false, exitOnError: false });
export const expect = chai.expect;
export { describe };
export default chai;
