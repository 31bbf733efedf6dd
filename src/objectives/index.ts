export * from './classification.js';
export * from './itc.js';
export * from './itm.js';
export * from './combine.js';
