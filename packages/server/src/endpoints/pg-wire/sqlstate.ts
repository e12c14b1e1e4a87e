/**
 * SQLSTATE codes for the engine's errors, so clients branch on them as they would against PostgreSQL
 * (SQLAlchemy maps 42xxx to ProgrammingError, 57014 to a cancelled query, and so on).
 *
 * @example
 *   sqlStateFor(new QueryError('sql', 'Binder Error: Referenced column "lvl" not found')) // '42703'
 */
import type { QueryError } from '../../analytics/query-error.js';

export function sqlStateFor(err: QueryError): string {
  const m = err.message;
  switch (err.code) {
    case 'timeout': return '57014';
    case 'busy': return '53000';
    case 'unavailable': return '57P03';
    case 'too_large': return '54000';
    case 'internal': return 'XX000';
    case 'bad_request':
      if (/only SELECT/.test(m)) return '25006';
      if (/cancelled/.test(m)) return '57014';
      if (/time range|cannot read time/.test(m)) return '22023';
      if (/cannot resolve view/.test(m)) return '42P01';
      return '42601';
    case 'sql':
      if (/^Parser Error|syntax error|view_instance/i.test(m)) return '42601';
      if (/Referenced column .* not found|column .* does not exist/i.test(m)) return '42703';
      if (/Table with name|Table Function with name|relation .* does not exist/i.test(m)) return '42P01';
      if (/Scalar Function with name|No function matches|Function with name/i.test(m)) return '42883';
      if (/^Conversion Error|Could not convert/i.test(m)) return '22P02';
      if (/^Out of Range|out of range/i.test(m)) return '22003';
      if (/division by zero/i.test(m)) return '22012';
      if (/^Binder Error/i.test(m)) return '42P18';
      if (/^Catalog Error/i.test(m)) return '42P01';
      if (/^Permission Error/i.test(m)) return '42501';
      return '42000';
    default:
      return 'XX000';
  }
}
