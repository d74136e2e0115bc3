/**
 * The papaparse jslib (`https://jslib.k6.io/papaparse/5.x/index.js`): jslib.k6.io serves papaparse's own UMD
 * build, which k6 imports as the module's default export (`import papaparse from ...`; `papaparse.parse(csv,
 * { header: true }).data`). Carried as the npm package of the same library (5.x; parse and unparse behave the
 * same across 5.x for strings), not a download and not a rewrite.
 */
// the browser build, as jslib.k6.io serves it: the Node build requires 'stream' (for Papa.NODE_STREAM_INPUT)
import Papa from 'papaparse/papaparse.min.js';

export default Papa;
