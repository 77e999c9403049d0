// The conformance suites, importable by third-party plugins as `s3backer/conformance`.
export { runBackendConformance, BACKEND_CASES, type BackendConformanceOptions } from './backend-suite.js';
export type { BackendCase, CaseContext } from './cases/backend/backend-case.js';
export { runBlockDeviceConformance, type BlockDeviceSuiteOptions } from './block-device-suite.js';
export { runCodecConformance, type CodecConformanceOptions, type CodecSupports } from './codec-suite.js';
