// @hey-api/openapi-ts's configuration for sdks/typescript (run by scripts/sdk_gen.sh, which
// sets TENX_SDK_SPEC to the filtered document and TENX_SDK_TS_OUT to the output folder).
export default {
  input: process.env.TENX_SDK_SPEC,
  output: {
    path: process.env.TENX_SDK_TS_OUT,
    // ESM for Node (moduleResolution NodeNext) and bundlers alike: relative imports end in .js.
    importFileExtension: '.js',
  },
  // The fetch client: no runtime dependency beyond the platform's fetch (Node 18+, Deno, Bun,
  // Cloudflare Workers, Vercel Edge, browsers).
  plugins: ['@hey-api/client-fetch', '@hey-api/typescript', '@hey-api/sdk'],
};
