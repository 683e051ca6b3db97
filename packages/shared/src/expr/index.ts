// Derived metrics (README "Derived metrics"): a small, safe expression language over the computed metrics.
export {
  ExprError,
  MAX_EXPR_LENGTH,
  tokenize as tokenizeExpr,
  type Token as ExprToken,
  type Operator as ExprOperator,
} from './tokenize.js';
export {
  FUNCTIONS as EXPR_FUNCTIONS,
  MAX_DEPTH as MAX_EXPR_DEPTH,
  parse as parseExpr,
  type Expr,
  type FunctionName as ExprFunctionName,
} from './parse.js';
export {
  compileExpr,
  type CompiledExpr,
  type Evaluator as ExprEvaluator,
  type NameResolver as ExprNameResolver,
  type Value as ExprValue,
} from './evaluate.js';
export {
  compileDerived,
  DERIVED_NAME,
  DerivedMetric,
  DerivedMetrics,
  DerivedName,
  DerivedValues,
  derivedOf,
  MAX_DERIVED,
  withDerived,
  type CompiledDerived,
} from './derived.js';
