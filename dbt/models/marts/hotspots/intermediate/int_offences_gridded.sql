{#- Every located offence with its grid cell (arithmetic, no spatial join) and the local
    hour of the week (0 = Monday 00:00 … 167 = Sunday 23:00). Offences outside the grid
    (outside the city) drop out here. -#}
{%- set size = var('grid_cell_m') %}
with offences as (
    select * from {{ ref('int_offences_classified') }}
),

cells as (
    select cell_id from {{ ref('dim_grid_cell') }}
),

gridded as (
    select
        offences.offence_id,
        offences.source_system,
        offences.offence_class,
        offences.occurred_at,
        offences.occurred_date,
        extract(year from offences.occurred_date)::integer as occurred_year,
        -- 0 = Monday 00:00 … 167 = Sunday 23:00, on the Warsaw wall clock
        (
            (extract(isodow from timezone('Europe/Warsaw', offences.occurred_at)) - 1) * 24
            + extract(hour from timezone('Europe/Warsaw', offences.occurred_at))
        )::integer as hour_of_week,
        'E' || floor(offences.easting_m / {{ size }})::integer
        || 'N' || floor(offences.northing_m / {{ size }})::integer as cell_id
    from offences
    where offences.easting_m is not null and offences.northing_m is not null
),

final as (
    select gridded.*
    from gridded
    inner join cells on gridded.cell_id = cells.cell_id
)

select * from final
