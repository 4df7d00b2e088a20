import type { CodegenConfig } from "@graphql-codegen/cli";

// Typed operations from the API's exported SDL. The output is committed; `npm run
// codegen:check` regenerates into a temporary directory (CODEGEN_OUT_DIR) and fails
// when src/gql/ differs.
const outDir = process.env.CODEGEN_OUT_DIR ?? "./src/gql/";

const config: CodegenConfig = {
  schema: "../schema.graphql",
  documents: ["src/**/*.{ts,tsx}", "!src/gql/**/*"],
  ignoreNoDocuments: false,
  generates: {
    [outDir]: {
      preset: "client",
      presetConfig: { fragmentMasking: false },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        strictScalars: true,
        scalars: { DateTime: "string", JSON: "unknown" },
        nonOptionalTypename: true,
        skipTypeNameForRoot: true,
      },
    },
  },
};

export default config;
