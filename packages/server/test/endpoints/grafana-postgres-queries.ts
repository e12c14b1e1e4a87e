/**
 * The metadata queries Grafana's PostgreSQL data source sends, as it sends them (from grafana/grafana,
 * public/app/plugins/datasource/grafana-postgresql-datasource/postgresMetaQuery.ts): the version probe at
 * configuration time, the TimescaleDB probe, the schema, table and column pickers of the query editor.
 * Kept verbatim on purpose: the gateway must answer these texts, not a tidier version of them.
 */

const searchPathSchemas = `
          quote_ident(table_schema) IN (
          SELECT
            CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END
          FROM
            generate_series(
              array_lower(string_to_array(current_setting('search_path'),','),1),
              array_upper(string_to_array(current_setting('search_path'),','),1)
            ) as i,
            string_to_array(current_setting('search_path'),',') s
          )`;

export const grafanaVersion = "SELECT current_setting('server_version_num')::int/100 as version";

export const grafanaTimescaleVersion = "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'";

export const grafanaSchemas = `SELECT schema_name AS "name"
    FROM information_schema.schemata
    WHERE schema_name NOT IN ('information_schema',
                              'pg_catalog',
                              'pg_toast',
                              '_timescaledb_cache',
                              '_timescaledb_catalog',
                              '_timescaledb_internal',
                              '_timescaledb_config',
                              'timescaledb_information',
                              'timescaledb_experimental')
    ORDER BY schema_name`;

export function grafanaTables(schema?: string): string {
  if (schema) {
    const schemaPart = "'" + schema.replace(/'/g, "''") + "'";
    return `SELECT quote_ident(table_name) AS "table"
      FROM information_schema.tables
      WHERE quote_ident(table_schema) = ${schemaPart}
      ORDER BY 1`;
  }
  return `SELECT
    CASE WHEN ${searchPathSchemas}
      THEN quote_ident(table_name)
      ELSE quote_ident(table_schema) || '.' || quote_ident(table_name)
    END AS "table"
    FROM information_schema.tables
    WHERE quote_ident(table_schema) NOT IN ('information_schema',
                             'pg_catalog',
                             '_timescaledb_cache',
                             '_timescaledb_catalog',
                             '_timescaledb_internal',
                             '_timescaledb_config',
                             'timescaledb_information',
                             'timescaledb_experimental')
    ORDER BY CASE WHEN ${searchPathSchemas} THEN 0 ELSE 1 END, 1`;
}

export function grafanaColumns(table: string): string {
  const tableNamePart = "'" + table.replace(/'/g, "''") + "'";
  return `SELECT quote_ident(column_name) AS "column", data_type AS "type"
    FROM information_schema.columns
    WHERE
      CASE WHEN array_length(parse_ident(${tableNamePart}),1) = 2
        THEN quote_ident(table_schema) = (parse_ident(${tableNamePart}))[1]
          AND quote_ident(table_name) = (parse_ident(${tableNamePart}))[2]
        ELSE quote_ident(table_name) = ${tableNamePart}
          AND ${searchPathSchemas}
      END`;
}
