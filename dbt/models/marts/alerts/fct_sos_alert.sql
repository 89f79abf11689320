{#- One row per SOS event of the current deliveries. A streamed event and the hourly
    file that later carries it are one event: the latest landing wins. The operator's
    free-text note stays in staging (it can name people). -#}
with alerts as (
    select * from {{ ref('stg_sos_alerts__alerts') }}
),

deduplicated as (
    select *
    from alerts
    qualify row_number() over (partition by event_id order by ingested_at desc, source_line asc) = 1
),

final as (
    select
        event_id,
        point_id,
        pressed_at,
        pressed_local,
        cast(pressed_local as date) as pressed_date,
        call_duration_s,
        classification,
        classification = 'confirmed_health_life' as is_threat_to_health_life,
        classification = 'unconfirmed' as is_unconfirmed,
        camera_point_id,
        is_in_order,
        ingested_at
    from deduplicated
)

select * from final
