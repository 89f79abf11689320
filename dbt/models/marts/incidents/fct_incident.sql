{#- One row per recorded offence of the Police, the City Guard and MCPU, with its
    analytic class from the taxonomy, its grid cell and its district: the unified
    fact the camera, displacement and hot-spot marts read. No free text, no street
    number: positions are EPSG:2180 metres, as researchers need them. -#}
with offences as (
    select * from {{ ref('int_offences_classified') }}
),

gridded as (
    select offence_id, cell_id from {{ ref('int_offences_gridded') }}
),

cells as (
    select cell_id, district_id from {{ ref('dim_grid_cell') }}
),

final as (
    select
        offences.offence_id,
        offences.source_system,
        offences.source_record_id,
        offences.occurred_at,
        offences.occurred_date,
        offences.legal_code,
        offences.article,
        offences.offence_class,
        offences.is_unknown_code,
        offences.easting_m,
        offences.northing_m,
        gridded.cell_id,
        coalesce(offences.district_id, cells.district_id) as district_id
    from offences
    left join gridded on gridded.offence_id = offences.offence_id
    left join cells on cells.cell_id = gridded.cell_id
)

select * from final
