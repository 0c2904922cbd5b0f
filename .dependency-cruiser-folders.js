// Second pass of `npm run depcruise`: no cycle between folders (any depth) of the shipped
// code. The tool counts a folder's dependencies over all its files, and cannot leave test
// files out of that per rule, so this pass leaves them out of the cruise: they build whole
// gateways and import every folder. The first pass (.dependency-cruiser.js) still holds
// tests to the file-cycle rule, and its allow-lists keep the top folders layered anyway.
import config, { test } from './.dependency-cruiser.js'

export default {
  forbidden: [
    {
      name: 'no-folder-cycle',
      comment: 'two folders that import each other, directly or through others',
      severity: 'error',
      scope: 'folder',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    ...config.options,
    exclude: { path: [...test, 'contract\\.ts$'] },
    // Folder dependencies are derived with the metrics.
    metrics: true,
    skipAnalysisNotInRules: true,
  },
}
