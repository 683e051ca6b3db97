// The strategy catalogue (README "Strategy catalogue"): schema, lookup, loading, hot reload.
export {
  Duration,
  parseDuration,
  DURATION_UNITS_MS,
  type DurationUnit,
  type ParsedDuration,
} from './duration.js';
export {
  CatalogueDocument,
  CatalogueEntry,
  CatalogueFile,
  MAX_WINDOW_COUNT,
  StrategyPattern,
  TagKey,
  TagValue,
  Tags,
  WindowName,
  WindowSpec,
} from './schema.js';
export { globToRegExp, isPattern, literalLength } from './match.js';
export {
  CatalogueError,
  compileCatalogue,
  emptyCatalogue,
  forgetResolved,
  periodsFromInterval,
  perPeriod,
  resolveStrategy,
  DEFAULT_STRATEGY_PARAMS,
  DEFAULT_TRADING_DAY,
  DEFAULT_TRADING_DAYS_PER_YEAR,
  type Catalogue,
  type CatalogueIssue,
  type ResolvedStrategy,
  type ResolvedWindow,
  type StrategyParams,
} from './resolve.js';
export {
  catalogueDocVersion,
  loadCatalogueFile,
  loadCatalogueInForce,
  parseCatalogueText,
  readCatalogueDoc,
  type CatalogueSource,
  type LoadedCatalogue,
} from './load.js';
export { LiveCatalogue, CATALOGUE_POLL_MS, type LiveCatalogueOptions } from './watch.js';
