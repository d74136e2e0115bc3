import { describe, k6chai } from './k6chaijs-core.ts';

/** The k6chaijs jslib 4.3.4.2 (see k6chaijs-core.ts): checks tagged this/actual/expected, no exitOnError. */
const chai = k6chai({ checkTags: true, exitOnError: false });
export const expect = chai.expect;
export { describe };
export default chai;
